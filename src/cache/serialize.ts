/**
 * Value encoding shared by the drivers: JSON text for JSON values, raw bytes for binary. SQLite
 * keeps TEXT and BLOB apart, so the column's type tells them apart with no marker byte.
 */
import { CacheError } from "./errors.ts";
import type { CacheValue } from "./types.ts";

export type Encoded = string | Uint8Array;

export function encode(key: string, value: CacheValue): Encoded {
  if (value instanceof Uint8Array) return new Uint8Array(value); // a copy: later caller edits must not leak in
  if (value === undefined) throw CacheError.badValue(key, "the value is undefined");
  if (typeof value === "number" && !Number.isFinite(value)) throw CacheError.badValue(key, `${value} is not a JSON number`);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw CacheError.badValue(key, (err as Error).message);
  }
  if (text === undefined) throw CacheError.badValue(key, `a ${typeof value} is not a JSON value`);
  return text;
}

export function decode(raw: Encoded): CacheValue {
  return typeof raw === "string" ? (JSON.parse(raw) as CacheValue) : raw;
}

/** Stored size in bytes, for the memory store's bound and `cache:stats`. */
export function encodedSize(raw: Encoded): number {
  return typeof raw === "string" ? Buffer.byteLength(raw) : raw.byteLength;
}
