/**
 * One suite every cache driver runs (Hono's contract-suite habit): the same behaviour through the
 * Repository, whatever the store. A driver file calls `storeContract({ name, create, advance })`;
 * `skip` lists whole groups a driver cannot honour, with the reason.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { Repository } from "../../src/cache/repository.ts";
import { RateLimiter } from "../../src/cache/rate-limiter.ts";
import type { CacheStore, CacheValue } from "../../src/cache/types.ts";
import type { Clock } from "../../src/core/clock.ts";

export interface ContractOptions {
  name: string;
  /** A fresh, empty store and the clock it uses. */
  create(): Promise<{ store: CacheStore; clock: Clock }>;
  /** Make `ms` pass for the store (advance a frozen clock, or really wait for Redis). */
  advance(clock: Clock, ms: number): Promise<void>;
  /**
   * Multiplies every TTL and wait: a store on a real clock (Redis) needs room for a stalled,
   * loaded machine between a put and the read that expects the value still there. @default 1
   */
  timeScale?: number;
  skip?: { reason: string; groups: string[] }[];
}

/** Every JSON type and binary, including the awkward ones. */
export const ROUND_TRIP: [string, CacheValue][] = [
  ["null", null],
  ["true", true],
  ["false", false],
  ["zero", 0],
  ["negative float", -1.5],
  ["huge number", 1e300],
  ["max safe integer", Number.MAX_SAFE_INTEGER],
  ["empty string", ""],
  ["unicode", "ünïcödé 🎉 \u0000 nul and \n newline"],
  ["string that looks like JSON", '{"a":1}'],
  ["numeric string", "42"],
  ["empty list", []],
  ["nested list", [1, "a", null, true, { b: [] }]],
  ["empty mapping", {}],
  ["nested mapping", { a: { b: { c: [1, 2, { d: "e" }] } }, "key with spaces": 1 }],
  ["large string", "x".repeat(100_000)],
  ["all 256 byte values", new Uint8Array(Array.from({ length: 256 }, (_, i) => i))],
  ["empty bytes", new Uint8Array(0)],
];

export function storeContract(opts: ContractOptions): void {
  const skipped = new Set(opts.skip?.flatMap((s) => s.groups) ?? []);
  const group = (name: string, fn: () => void) => (skipped.has(name) ? describe.skip(name, fn) : describe(name, fn));

  describe(`${opts.name} store contract`, () => {
    let store: CacheStore;
    let clock: Clock;
    let repo: Repository;
    const opened: Repository[] = [];
    beforeEach(async () => {
      ({ store, clock } = await opts.create());
      repo = new Repository(store, { clock, lockPollMs: 10, statsFlushMs: 0 });
      opened.push(repo);
    });
    afterAll(async () => {
      for (const r of opened) await r.close();
    });
    const S = opts.timeScale ?? 1;
    const advance = (ms: number) => opts.advance(clock, ms * S);

    group("values", () => {
      test("a missing key is null, or the default (called if a function)", async () => {
        expect(await repo.get("nope")).toBeNull();
        expect(await repo.get("nope", 7)).toBe(7);
        expect(await repo.get("nope", () => "computed")).toBe("computed");
        expect(await repo.has("nope")).toBe(false);
        expect(await repo.missing("nope")).toBe(true);
      });
      for (const [label, value] of ROUND_TRIP) {
        test(`round-trips ${label}`, async () => {
          await repo.put("k", value);
          expect(await store.get("k")).toEqual(value);
        });
      }
      test("bytes come back as a Uint8Array", async () => {
        await repo.put("b", new Uint8Array([0, 255, 1]));
        const v = await repo.get("b");
        expect(v).toBeInstanceOf(Uint8Array);
        expect([...(v as Uint8Array)]).toEqual([0, 255, 1]);
      });
      test("editing a value after put or get does not edit the cache", async () => {
        const obj = { list: [1] };
        await repo.put("o", obj);
        obj.list.push(2);
        const got = (await repo.get<{ list: number[] }>("o"))!;
        got.list.push(3);
        expect(await repo.get("o")).toEqual({ list: [1] });
      });
      test("a cached null counts as missing for has()", async () => {
        await repo.put("n", null);
        expect(await repo.has("n")).toBe(false);
      });
      test("undefined, NaN and functions are refused with CACHE_BAD_VALUE", async () => {
        for (const bad of [undefined, NaN, Infinity, () => 1]) {
          await expect(repo.put("bad", bad as any)).rejects.toMatchObject({ code: "CACHE_BAD_VALUE" });
        }
        expect(await repo.get("bad")).toBeNull();
      });
      test("many and putMany", async () => {
        await repo.putMany({ a: 1, b: "two", c: [3] }, 60);
        expect(await repo.many(["a", "b", "c", "d"])).toEqual({ a: 1, b: "two", c: [3], d: null });
      });
      test("forget, pull and flush", async () => {
        await repo.put("a", 1);
        await repo.put("b", 2);
        expect(await repo.forget("a")).toBe(true);
        expect(await repo.forget("a")).toBe(false);
        expect(await repo.pull("b")).toBe(2);
        expect(await repo.get("b")).toBeNull();
        await repo.put("c", 3);
        await repo.flush();
        expect(await repo.get("c")).toBeNull();
      });
      test("remember computes once, then serves the cached value", async () => {
        let calls = 0;
        const fn = () => ++calls;
        expect(await repo.remember("r", 60, fn)).toBe(1);
        expect(await repo.remember("r", 60, fn)).toBe(1);
        expect(await repo.rememberForever("rf", fn)).toBe(2);
        expect(await repo.sear("rf", fn)).toBe(2);
        expect(calls).toBe(2);
      });
    });

    group("expiry", () => {
      test("an expired entry is never returned", async () => {
        await repo.put("t", "soon", 0.3 * S);
        expect(await repo.get("t")).toBe("soon");
        await advance(400);
        expect(await repo.get("t")).toBeNull();
        expect(await store.get("t")).toBeUndefined();
        expect(await store.many(["t"])).toEqual([undefined]);
        expect(await repo.ttl("t")).toBeUndefined();
      });
      test("a TTL of zero or less forgets the key; null is forever", async () => {
        await repo.put("z", 1);
        expect(await repo.put("z", 2, 0)).toBe(false);
        expect(await repo.get("z")).toBeNull();
        await repo.put("f", 1, null);
        expect(await repo.ttl("f")).toBeNull();
        await repo.forever("f2", 1);
        expect(await repo.ttl("f2")).toBeNull();
      });
      test("touch gives a live key a new TTL, and not a missing or expired one", async () => {
        await repo.put("t", 1, 0.3 * S);
        expect(await repo.touch("t", 60)).toBe(true);
        await advance(400);
        expect(await repo.get("t")).toBe(1);
        expect(await repo.touch("t")).toBe(true);
        expect(await repo.ttl("t")).toBeNull();
        expect(await repo.touch("missing", 60)).toBe(false);
        await repo.put("gone", 1, 0.3 * S);
        await advance(400);
        expect(await repo.touch("gone", 60)).toBe(false);
        expect(await repo.get("gone")).toBeNull();
        expect(await repo.touch("t", 0)).toBe(true);
        expect(await repo.get("t")).toBeNull();
      });
      test("a Date TTL is an absolute expiry", async () => {
        await repo.put("d", 1, new Date(clock.now() + 300 * S));
        expect(await repo.get("d")).toBe(1);
        await advance(400);
        expect(await repo.get("d")).toBeNull();
      });
      test("add stores only when missing or expired", async () => {
        expect(await repo.add("a", 1, 0.3 * S)).toBe(true);
        expect(await repo.add("a", 2, 0.3 * S)).toBe(false);
        expect(await repo.get("a")).toBe(1);
        await advance(400);
        expect(await repo.add("a", 3, 60)).toBe(true);
        expect(await repo.get("a")).toBe(3);
        expect(await repo.add("b", 1, 0)).toBe(false);
      });
      test("remember recomputes after expiry", async () => {
        let calls = 0;
        await repo.remember("r", 0.3 * S, () => ++calls);
        await advance(400);
        expect(await repo.remember("r", 0.3 * S, () => ++calls)).toBe(2);
      });
    });

    group("increment", () => {
      test("a missing key starts at zero; decrement goes below zero", async () => {
        expect(await repo.increment("n")).toBe(1);
        expect(await repo.increment("n", 5)).toBe(6);
        expect(await repo.decrement("n", 10)).toBe(-4);
        expect(await repo.get("n")).toBe(-4);
      });
      test("floats add up", async () => {
        await repo.put("f", 1.5);
        expect(await repo.increment("f", 1)).toBe(2.5);
      });
      test("the expiry of an existing key is kept", async () => {
        await repo.put("n", 1, 0.3 * S);
        expect(await repo.increment("n")).toBe(2);
        expect(await repo.ttl("n")).toBeGreaterThan(0);
        await advance(400);
        expect(await repo.get("n")).toBeNull();
        expect(await repo.increment("n")).toBe(1);
      });
      test("a non-numeric value is refused with CACHE_NOT_NUMERIC and left alone", async () => {
        for (const v of ["text", "42", [1], new Uint8Array([1])] as CacheValue[]) {
          await repo.put("s", v);
          await expect(repo.increment("s")).rejects.toMatchObject({ code: "CACHE_NOT_NUMERIC" });
          expect(await store.get("s")).toEqual(v);
        }
      });
      test("concurrent increments in one process all count", async () => {
        await Promise.all(Array.from({ length: 50 }, () => repo.increment("c")));
        expect(await repo.get("c")).toBe(50);
      });
    });

    group("flexible", () => {
      test("fresh values are served, stale ones served then refreshed, expired ones recomputed", async () => {
        let calls = 0;
        const fn = () => ++calls;
        expect(await repo.flexible("fx", [0.2 * S, 0.6 * S], fn)).toBe(1);
        expect(await repo.flexible("fx", [0.2 * S, 0.6 * S], fn)).toBe(1);
        await advance(300); // stale window
        expect(await repo.flexible("fx", [0.2 * S, 0.6 * S], fn)).toBe(1);
        await Promise.all([...repo.pending]);
        expect(calls).toBe(2);
        expect(await repo.flexible("fx", [0.2 * S, 0.6 * S], fn)).toBe(2);
        await advance(700); // past stale: computed now
        expect(await repo.flexible("fx", [0.2 * S, 0.6 * S], fn)).toBe(3);
      });
    });

    group("tags", () => {
      test("flushing a tag drops entries stored under it and keeps the others", async () => {
        await repo.tags("people", "artists").put("john", "lennon");
        await repo.tags("people").put("anne", "frank");
        await repo.tags("authors").put("tolkien", "jrr");
        await repo.put("plain", 1);
        expect(await repo.tags("people", "artists").get("john")).toBe("lennon");
        await repo.tags("artists").flush();
        expect(await repo.tags("people", "artists").get("john")).toBeNull();
        expect(await repo.tags("people").get("anne")).toBe("frank");
        expect(await repo.tags(["authors"]).get("tolkien")).toBe("jrr");
        expect(await repo.get("plain")).toBe(1);
      });
      test("tagged remember, increment and forget", async () => {
        const t = repo.tags("t");
        expect(await t.remember("r", 60, () => "v")).toBe("v");
        expect(await t.increment("n", 2)).toBe(2);
        expect(await t.forget("r")).toBe(true);
        expect(await t.has("r")).toBe(false);
      });
    });

    group("locks", () => {
      test("a held lock cannot be taken; release frees it only for its owner", async () => {
        const a = repo.lock("job", 10);
        const b = repo.lock("job", 10);
        expect(await a.get()).toBe(true);
        expect(await b.get()).toBe(false);
        expect(await b.release()).toBe(false);
        expect(await a.owner()).toBe(a.ownerToken);
        expect(await a.isOwnedByCurrentProcess()).toBe(true);
        expect(await a.release()).toBe(true);
        expect(await b.get()).toBe(true);
        expect(await b.isLocked()).toBe(true);
        await b.release();
      });
      test("get(fn) runs fn holding the lock and releases it after, even on error", async () => {
        const l = repo.lock("cb", 10);
        expect(await l.get(async () => ((await repo.lock("cb").get()) ? "stolen" : "held"))).toBe("held");
        expect(await repo.lock("cb").get()).toBe(true);
        await repo.lock("cb").forceRelease();
        await expect(repo.lock("cb", 10).get(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
        expect(await repo.lock("cb").isLocked()).toBe(false);
      });
      test("restoreLock lets another holder of the token release it; forceRelease ignores owners", async () => {
        const a = repo.lock("hand", 10);
        await a.get();
        expect(await repo.restoreLock("hand", a.ownerToken).release()).toBe(true);
        await repo.lock("hand", 10).get();
        await repo.lock("hand").forceRelease();
        expect(await repo.lock("hand").owner()).toBeUndefined();
      });
      test("an expired lock can be taken over", async () => {
        const a = repo.lock("exp", 0.3 * S);
        await a.get();
        await advance(400);
        expect(await a.owner()).toBeUndefined();
        const b = repo.lock("exp", 10);
        expect(await b.get()).toBe(true);
        expect(await a.release()).toBe(false);
        expect(await a.refresh()).toBe(false);
        expect(await b.refresh(20)).toBe(true);
      });
      test("block waits and then fails with CACHE_LOCK_TIMEOUT", async () => {
        await repo.lock("blk", 10).get();
        await expect(repo.lock("blk", 10).block(0.05)).rejects.toMatchObject({ code: "CACHE_LOCK_TIMEOUT" });
      });
      test("block acquires once the holder releases", async () => {
        const a = repo.lock("blk2", 10);
        await a.get();
        setTimeout(() => void a.release(), 30);
        expect(await repo.lock("blk2", 10).block(5, () => "ran")).toBe("ran");
      });
      test("locks and entries do not share names", async () => {
        await repo.put("same", 1);
        expect(await repo.lock("same", 10).get()).toBe(true);
        expect(await repo.get("same")).toBe(1);
      });
    });

    group("rate limiter", () => {
      test("counts hits in a window, refuses past the limit, frees after decay", async () => {
        const rl = new RateLimiter(repo);
        for (let i = 1; i <= 3; i++) expect(await rl.hit("ip:1", S)).toBe(i);
        expect(await rl.attempts("ip:1")).toBe(3);
        expect(await rl.tooManyAttempts("ip:1", 3)).toBe(true);
        expect(await rl.tooManyAttempts("ip:1", 4)).toBe(false);
        expect(await rl.remaining("ip:1", 5)).toBe(2);
        expect(await rl.availableIn("ip:1")).toBeGreaterThan(0);
        await advance(1100);
        expect(await rl.tooManyAttempts("ip:1", 3)).toBe(false);
        expect(await rl.attempts("ip:1")).toBe(0);
        expect(await rl.availableIn("ip:1")).toBe(0);
      });
      test("attempt runs the callback until the limit, then returns false; clear resets", async () => {
        const rl = new RateLimiter(repo);
        let runs = 0;
        expect(await rl.attempt("k", 2, () => ++runs)).toBe(1);
        expect(await rl.attempt("k", 2, () => void ++runs)).toBe(true);
        expect(await rl.attempt("k", 2, () => ++runs)).toBe(false);
        expect(runs).toBe(2);
        await rl.clear("k");
        expect(await rl.attempt("k", 2, () => ++runs)).toBe(3);
      });
    });

    group("maintenance", () => {
      test("stats count live entries, bytes and recorded hits", async () => {
        await repo.put("a", "12345");
        await repo.put("gone", 1, 0.3 * S);
        await advance(400);
        await repo.get("a");
        await repo.get("missing");
        const s = await repo.stats();
        expect(s.entries).toBe(1);
        expect(s.bytes).toBeGreaterThanOrEqual(7);
        expect(s.hits).toBe(1);
        expect(s.misses).toBe(1);
        expect(s.hit_ratio).toBe(0.5);
      });
      test("prune leaves live entries alone", async () => {
        await repo.put("live", 1, 60);
        await repo.put("dead", 1, 0.3 * S);
        await advance(400);
        await repo.prune();
        expect(await repo.get("live")).toBe(1);
        expect((await repo.stats()).entries).toBe(1);
      });
    });
  });
}
