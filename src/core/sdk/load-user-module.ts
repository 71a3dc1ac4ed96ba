import { existsSync } from "node:fs";
import { SecurelyError } from "../errors.ts";

/**
 * Import a user's .ts/.js file. A missing file or one that throws while loading is reported with
 * its path (and line, when the runtime gives one): the service refuses to start half-configured.
 */
export async function loadUserModule<T = Record<string, unknown>>(path: string, what: string): Promise<T> {
  if (!existsSync(path)) throw new SecurelyError(`${what}: file ${path} not found`, { hint: "check the path in the config (relative to the config file's folder)" });
  try {
    return (await import(path)) as T;
  } catch (err) {
    const e = err as Error & { line?: number; column?: number };
    const where = e.line ? `${path}:${e.line}${e.column ? `:${e.column}` : ""}` : path;
    throw new SecurelyError(`${what}: ${where} failed to load: ${e.message}`, { cause: err });
  }
}
