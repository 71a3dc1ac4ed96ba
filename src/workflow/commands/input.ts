/** JSON arguments of workflow commands: a literal, `-` for stdin, or nothing. */
import { UsageError } from "../../core/errors.ts";

export async function readJsonArg(value: string | undefined, what: string): Promise<unknown> {
  if (value === undefined) return null;
  const text = value === "-" ? await Bun.stdin.text() : value;
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} is not valid JSON: ${(err as Error).message}`, `quote it for the shell, e.g. '{"order_id": 42}' or '"text"'`);
  }
}

export function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} expects a non-negative number, got '${v}'`);
  return n;
}
