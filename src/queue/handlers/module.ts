/**
 * `module` handler: a user .ts/.js file exporting `handle(payload, ctx)` or a `defineJob({…})`
 * default, loaded once per process through the SDK loader (so `import … from "securely"` works).
 */
import { loadUserModule } from "../../core/sdk/index.ts";
import { QueueError } from "../errors.ts";
import type { JobContext, JobDefinition } from "../types.ts";

const cache = new Map<string, Promise<JobDefinition>>();

export function loadJobModule(path: string): Promise<JobDefinition> {
  let p = cache.get(path);
  if (!p) {
    p = loadUserModule<Record<string, any>>(path, "queue handler").then((m) => {
      const def = typeof m.handle === "function" ? { ...m, handle: m.handle } : m.default;
      if (typeof def === "function") return { handle: def } as JobDefinition;
      if (!def || typeof def.handle !== "function") {
        throw new QueueError(`queue handler: ${path} exports no handle(payload, ctx)`, { hint: "export function handle(payload, ctx) or export default defineJob({ handle })" });
      }
      return def as JobDefinition;
    });
    p.catch(() => cache.delete(path)); // a fixed file is retried on the next job
    cache.set(path, p);
  }
  return p;
}

/** Run a definition's handle through its middleware (outermost first, Laravel's pipeline order). */
export async function runDefinition(def: JobDefinition, payload: unknown, ctx: JobContext): Promise<unknown> {
  const mws = def.middleware ?? [];
  const step = (i: number): Promise<unknown> => (i < mws.length ? mws[i]!(ctx, payload, () => step(i + 1)) : Promise.resolve(def.handle(payload, ctx)));
  return step(0);
}
