/**
 * Handler names → something runnable. A name is looked up in the code registry, then in
 * `queue.handlers`; `shell:CMD`, `http:URL` and `module:PATH` are inline handlers.
 * `checkHandler` runs at push time so an unknown handler is refused before anything is written.
 */
import { existsSync } from "node:fs";
import type { App } from "../../core/app.ts";
import { parseBackoff } from "../options.ts";
import { QueueError } from "../errors.ts";
import type { JobContext, JobDefinition } from "../types.ts";
import { httpHandler } from "./http.ts";
import { loadJobModule, runDefinition } from "./module.ts";
import { registeredHandler, registeredHandlerNames } from "./registry.ts";
import { shellHandler } from "./shell.ts";

export type HandlerRun = (payloadText: string, ctx: JobContext) => Promise<{ output?: string } | void>;

export interface ResolvedHandler {
  kind: "code" | "shell" | "http" | "module";
  run: HandlerRun;
  tries?: number;
  backoff?: number[];
  timeout?: number;
}

interface HandlerConfig {
  type: "shell" | "http" | "module";
  command?: string;
  url?: string;
  path?: string;
  headers?: Record<string, string>;
  tries?: number;
  backoff?: string;
  timeout?: number;
}

function inline(name: string): HandlerConfig | undefined {
  const m = /^(shell|http|module):(.+)$/s.exec(name);
  if (!m) return undefined;
  const type = m[1] as HandlerConfig["type"];
  return { type, [{ shell: "command", http: "url", module: "path" }[type]]: m[2] } as HandlerConfig;
}

function configured(app: App, name: string): HandlerConfig | undefined {
  return (app.config.get<Record<string, HandlerConfig>>("queue.handlers") ?? {})[name] ?? inline(name);
}

/** Refuse a handler name that no worker could run (push-time check). */
export function checkHandler(app: App, name: string): void {
  if (registeredHandler(name)) return;
  const h = configured(app, name);
  if (!h) throw QueueError.unknownHandler(name, [...registeredHandlerNames(), ...Object.keys(app.config.get<object>("queue.handlers") ?? {})]);
  if (h.type === "http") {
    try {
      new URL(h.url!);
    } catch {
      throw QueueError.badJob(`handler '${name}'`, `'${h.url}' is not a URL`);
    }
  }
  if (h.type === "module" && !existsSync(app.resolvePath(h.path!))) {
    throw QueueError.badJob(`handler '${name}'`, `module file ${app.resolvePath(h.path!)} not found`);
  }
}

function fromDefinition(def: JobDefinition, kind: "code" | "module"): ResolvedHandler {
  return {
    kind,
    tries: def.tries,
    backoff: def.backoff === undefined ? undefined : Array.isArray(def.backoff) ? def.backoff : [def.backoff],
    timeout: def.timeout,
    run: async (payloadText, ctx) => {
      await runDefinition(def, JSON.parse(payloadText), ctx);
    },
  };
}

/** Resolve for running; module files are loaded (once) here. */
export async function resolveHandler(app: App, name: string): Promise<ResolvedHandler> {
  const code = registeredHandler(name);
  if (code) return fromDefinition(code, "code");
  const h = configured(app, name);
  if (!h) throw QueueError.unknownHandler(name, registeredHandlerNames());
  const limit = app.config.get<number>("queue.output_limit") ?? 65536;
  const base = { tries: h.tries, backoff: h.backoff !== undefined ? parseBackoff(h.backoff, `queue.handlers.${name}.backoff`) : undefined, timeout: h.timeout };
  if (h.type === "shell") return { kind: "shell", run: shellHandler(h.command!, limit), ...base };
  if (h.type === "http") return { kind: "http", run: httpHandler(h.url!, h.headers ?? {}, limit), ...base };
  const def = await loadJobModule(app.resolvePath(h.path!));
  const r = fromDefinition(def, "module");
  return { ...r, tries: base.tries ?? r.tries, backoff: base.backoff ?? r.backoff, timeout: base.timeout ?? r.timeout };
}
