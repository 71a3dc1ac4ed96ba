/**
 * Handlers registered in code, by name. Other namespaces (the workflow engine's task handlers)
 * register at import time, so every process that loads the module list — `queue:work`, `serve` —
 * can run their jobs. Names registered here win over config handlers of the same name.
 */
import type { JobDefinition } from "../types.ts";

const registry = new Map<string, JobDefinition>();

/** Register a handler; a plain function is shorthand for `{ handle }`. */
export function registerHandler(name: string, def: JobDefinition | JobDefinition["handle"]): void {
  registry.set(name, typeof def === "function" ? { handle: def } : def);
}

export function unregisterHandler(name: string): void {
  registry.delete(name);
}

export function registeredHandler(name: string): JobDefinition | undefined {
  return registry.get(name);
}

export function registeredHandlerNames(): string[] {
  return [...registry.keys()];
}

/** Identity helper for handler modules: `export default defineJob({ handle(payload, ctx) {…} })`. */
export function defineJob<P = any>(def: JobDefinition<P>): JobDefinition<P> {
  return def;
}
