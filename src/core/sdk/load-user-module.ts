import { existsSync, statSync } from "node:fs";
import { SecurelyError } from "../errors.ts";

/**
 * Import a user's .ts/.js file. A missing file or one that throws while loading is reported with
 * its path (and line, when the runtime gives one): the service refuses to start half-configured.
 */
export async function loadUserModule<T = Record<string, unknown>>(path: string, what: string): Promise<T> {
  if (!existsSync(path)) throw new SecurelyError(`${what}: file ${path} not found`, { hint: "check the path in the config (relative to the config file's folder)" });
  if (statSync(path).isDirectory()) throw new SecurelyError(`${what}: ${path} is a folder`, { hint: "name a .ts or .js file" });
  try {
    return (await import(path)) as T;
  } catch (err) {
    // a syntax error arrives as "N errors building FILE"; its first BuildMessage says what and where
    const first = (err as { errors?: { message?: string; position?: { line?: number; column?: number } }[] }).errors?.[0];
    if (first?.message) {
      const pos = first.position?.line ? `${path}:${first.position.line}${first.position.column !== undefined ? `:${first.position.column}` : ""}` : path;
      throw new SecurelyError(`${what}: ${pos} failed to load: ${first.message}`, { cause: err });
    }
    const e = err as Error & { line?: number; column?: number };
    const where = e.line ? `${path}:${e.line}${e.column ? `:${e.column}` : ""}` : path;
    throw new SecurelyError(`${what}: ${where} failed to load: ${e.message}`, { cause: err });
  }
}
