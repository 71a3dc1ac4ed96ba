/** Errors the cache raises, each one line with what went wrong and what to do. */
import { SecurelyError } from "../core/errors.ts";

export class CacheError extends SecurelyError {
  constructor(message: string, code: string, hint?: string, cause?: unknown) {
    super(message, { code, hint, cause });
    this.name = "CacheError";
  }

  static notNumeric(key: string): CacheError {
    return new CacheError(`cache key '${key}' does not hold a number, so it cannot be incremented`, "CACHE_NOT_NUMERIC", "forget the key or store a number first");
  }

  static unknownStore(name: string, known: string[]): CacheError {
    return new CacheError(`cache store [${name}] is not defined`, "CACHE_UNKNOWN_STORE", `use one of ${known.join(", ")}`);
  }

  static lockTimeout(name: string, seconds: number): CacheError {
    return new CacheError(`could not acquire lock '${name}' within ${seconds} s`, "CACHE_LOCK_TIMEOUT", "the holder may be slow; raise the wait or force-release it");
  }

  static unavailable(driver: string, where: string, cause: unknown): CacheError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new CacheError(`cache store ${driver} at ${where} is unavailable: ${detail}`, "CACHE_UNAVAILABLE", "check the server is running and cache.redis.url", cause);
  }

  static badValue(key: string, reason: string): CacheError {
    return new CacheError(`cannot cache '${key}': ${reason}`, "CACHE_BAD_VALUE", "store JSON values (null, booleans, numbers, strings, lists, mappings) or bytes");
  }
}
