/**
 * Redis store over Bun's built-in client (Laravel's RedisStore), for installations that outgrow
 * one machine. Every operation is one atomic Redis command or Lua script, so increments and locks
 * hold across processes and hosts. Expiry is Redis's own (PX), so an expired key is never read.
 * Binary values are stored as NUL + base64 (a JSON text never starts with NUL), which keeps every
 * value a UTF-8 string and lets INCRBY work on plain JSON numbers.
 */
import { RedisClient } from "bun";
import type { Clock } from "../../core/clock.ts";
import { CacheError } from "../errors.ts";
import type { CacheStore, CacheValue, StoreStats } from "../types.ts";
import { encode } from "../serialize.ts";

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const REFRESH = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '0' then return redis.call('PERSIST', KEYS[1]) + 1 else return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
else return 0 end`;

// PERSIST alone returns 0 both for "missing" and "already forever"
const PERSIST_IF_EXISTS = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PERSIST', KEYS[1]) return 1 else return 0 end`;

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every Redis key, so several installations can share one server. */
  prefix: string;
}

export class RedisStore implements CacheStore {
  readonly driver = "redis";
  readonly shared = true;
  private client: RedisClient;
  private ready?: Promise<void>;

  constructor(private clock: Clock, private opts: RedisStoreOptions) {
    this.client = new RedisClient(opts.url, { enableOfflineQueue: false, autoReconnect: false, connectionTimeout: 5000 });
  }

  private v(key: string): string {
    return `${this.opts.prefix}v:${key}`;
  }
  private l(name: string): string {
    return `${this.opts.prefix}l:${name}`;
  }

  // autoReconnect is off: a dead server must fail fast; cmd() reconnects on the next call instead
  /** Run one command; connection problems become one clear CacheError naming the server. */
  private async cmd(command: string, args: string[]): Promise<any> {
    try {
      if (!this.client.connected) {
        this.ready ??= this.client.connect().finally(() => (this.ready = undefined));
        await this.ready;
      }
      return await this.client.send(command, args);
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_REDIS_SERVER_ERROR") throw err;
      throw CacheError.unavailable("redis", redactUrl(this.opts.url), err);
    }
  }

  /** PX argument for an absolute expiry; undefined for forever, 0 when already past. */
  private px(expiresAt: number | null): number | undefined {
    if (expiresAt === null) return undefined;
    return Math.max(0, Math.ceil(expiresAt - this.clock.now()));
  }

  async get(key: string): Promise<CacheValue | undefined> {
    return decodeRedis(await this.cmd("GET", [this.v(key)]));
  }

  async many(keys: string[]): Promise<(CacheValue | undefined)[]> {
    if (keys.length === 0) return [];
    const raw = (await this.cmd("MGET", keys.map((k) => this.v(k)))) as (string | null)[];
    return raw.map(decodeRedis);
  }

  async put(key: string, value: CacheValue, expiresAt: number | null): Promise<void> {
    const px = this.px(expiresAt);
    if (px === 0) {
      await this.forget(key);
      return;
    }
    await this.cmd("SET", [this.v(key), encodeRedis(key, value), ...(px === undefined ? [] : ["PX", String(px)])]);
  }

  async putMany(entries: [string, CacheValue][], expiresAt: number | null): Promise<void> {
    // MULTI would need a dedicated connection; SETs are independent, so pipeline them instead
    await Promise.all(entries.map(([k, v]) => this.put(k, v, expiresAt)));
  }

  async add(key: string, value: CacheValue, expiresAt: number | null): Promise<boolean> {
    const px = this.px(expiresAt);
    if (px === 0) return false;
    const res = await this.cmd("SET", [this.v(key), encodeRedis(key, value), "NX", ...(px === undefined ? [] : ["PX", String(px)])]);
    return res === "OK";
  }

  async increment(key: string, by: number): Promise<number> {
    const k = this.v(key);
    try {
      if (Number.isInteger(by)) return Number(await this.cmd("INCRBY", [k, String(by)]));
    } catch (err) {
      if (!/not an integer/i.test((err as Error).message)) throw err;
    }
    try {
      // floats, and integers held as "2.5": INCRBYFLOAT keeps the TTL as INCRBY does
      return Number(await this.cmd("INCRBYFLOAT", [k, String(by)]));
    } catch (err) {
      if (/not a valid float|WRONGTYPE/i.test((err as Error).message)) throw CacheError.notNumeric(key);
      throw err;
    }
  }

  async forget(key: string): Promise<boolean> {
    return Number(await this.cmd("DEL", [this.v(key)])) > 0;
  }

  async flush(): Promise<void> {
    // only this prefix: another installation may share the server (Laravel flushes the whole DB)
    let cursor = "0";
    do {
      const [next, keys] = (await this.cmd("SCAN", [cursor, "MATCH", globEscape(this.opts.prefix) + "*", "COUNT", "500"])) as [string, string[]];
      if (keys.length) await this.cmd("UNLINK", keys);
      cursor = next;
    } while (cursor !== "0");
  }

  async touch(key: string, expiresAt: number | null): Promise<boolean> {
    const px = this.px(expiresAt);
    if (px === 0) return this.forget(key);
    if (px === undefined) return Number(await this.cmd("EVAL", [PERSIST_IF_EXISTS, "1", this.v(key)])) > 0;
    return Number(await this.cmd("PEXPIRE", [this.v(key), String(px)])) > 0;
  }

  async ttl(key: string): Promise<number | null | undefined> {
    const ms = Number(await this.cmd("PTTL", [this.v(key)]));
    return ms === -2 ? undefined : ms === -1 ? null : ms;
  }

  async acquireLock(name: string, owner: string, expiresAt: number | null): Promise<boolean> {
    const px = this.px(expiresAt);
    if (px === 0) return false;
    const res = await this.cmd("SET", [this.l(name), owner, "NX", ...(px === undefined ? [] : ["PX", String(px)])]);
    return res === "OK";
  }

  async releaseLock(name: string, owner: string): Promise<boolean> {
    return Number(await this.cmd("EVAL", [RELEASE, "1", this.l(name), owner])) > 0;
  }

  async forceReleaseLock(name: string): Promise<void> {
    await this.cmd("DEL", [this.l(name)]);
  }

  async lockOwner(name: string): Promise<string | undefined> {
    return ((await this.cmd("GET", [this.l(name)])) as string | null) ?? undefined;
  }

  async refreshLock(name: string, owner: string, expiresAt: number | null): Promise<boolean> {
    const px = this.px(expiresAt);
    if (px === 0) return false;
    return Number(await this.cmd("EVAL", [REFRESH, "1", this.l(name), owner, String(px ?? 0)])) > 0;
  }

  async prune(): Promise<number> {
    return 0; // Redis expires keys itself
  }

  async stats(): Promise<StoreStats> {
    let entries = 0;
    let locks = 0;
    let bytes = 0;
    let cursor = "0";
    const entryPrefix = this.v("");
    const lockPrefix = this.l("");
    do {
      const [next, keys] = (await this.cmd("SCAN", [cursor, "MATCH", globEscape(this.opts.prefix) + "*", "COUNT", "500"])) as [string, string[]];
      for (const k of keys) {
        if (k.startsWith(entryPrefix)) {
          entries++;
          bytes += Number(await this.cmd("STRLEN", [k]));
        } else if (k.startsWith(lockPrefix)) locks++;
      }
      cursor = next;
    } while (cursor !== "0");
    const h = ((await this.cmd("HGETALL", [`${this.opts.prefix}stats`])) ?? {}) as Record<string, string>;
    return { entries, bytes, hits: Number(h.hits ?? 0), misses: Number(h.misses ?? 0), locks };
  }

  async recordHits(hits: number, misses: number): Promise<void> {
    if (!hits && !misses) return;
    const key = `${this.opts.prefix}stats`;
    await Promise.all([this.cmd("HINCRBY", [key, "hits", String(hits)]), this.cmd("HINCRBY", [key, "misses", String(misses)])]);
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

function encodeRedis(key: string, value: CacheValue): string {
  const raw = encode(key, value);
  return typeof raw === "string" ? raw : "\u0000" + Buffer.from(raw).toString("base64");
}

function decodeRedis(raw: string | null | undefined): CacheValue | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (raw.charCodeAt(0) === 0) return new Uint8Array(Buffer.from(raw.slice(1), "base64"));
  return JSON.parse(raw) as CacheValue;
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}

/** The URL without its password, for error messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return url;
  }
}
