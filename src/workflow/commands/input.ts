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

export function positiveInt(v: string | undefined, flag: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  // Number("") is 0: an empty value (an unset shell variable) must not mean "prune everything"
  const n = v.trim() === "" ? NaN : Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`${flag} expects ${min > 0 ? `a number ≥ ${min}` : "a non-negative number"}, got '${v}'`);
  return n;
}
