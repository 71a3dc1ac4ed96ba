import { describe, expect, test } from "bun:test";
import { RedisStore } from "../../../src/cache/drivers/redis.ts";
import { FrozenClock, systemClock } from "../../../src/core/clock.ts";
import { startRedis } from "../redis-server.ts";
import { storeContract } from "../store-contract.ts";

const redis = await startRedis();
let n = 0;

storeContract({
  name: "redis",
  async create() {
    // a fresh prefix per test isolates them on one server; the frozen clock drives the
    // Repository's own time logic (flexible, rate limiter), Redis expires keys on its own clock
    const clock = new FrozenClock(Date.now());
    return { store: new RedisStore(clock, { url: redis.url, prefix: `t${++n}:` }), clock };
  },
  async advance(clock, ms) {
    (clock as FrozenClock).advance(ms);
    await Bun.sleep(ms);
  },
  timeScale: 2,
});

describe("RedisStore", () => {
  test("flush removes only its own prefix", async () => {
    const a = new RedisStore(systemClock, { url: redis.url, prefix: "app-a:" });
    const b = new RedisStore(systemClock, { url: redis.url, prefix: "app-b:" });
    await a.put("k", 1, null);
    await b.put("k", 2, null);
    await a.flush();
    expect(await a.get("k")).toBeUndefined();
    expect(await b.get("k")).toBe(2);
    await a.close();
    await b.close();
  });

  test("an unreachable server is one clear CACHE_UNAVAILABLE error without the password", async () => {
    const s = new RedisStore(systemClock, { url: "redis://:hunter2@127.0.0.1:1", prefix: "" });
    const err = await s.get("k").catch((e) => e);
    expect(err.code).toBe("CACHE_UNAVAILABLE");
    expect(err.message).toContain("127.0.0.1:1");
    expect(err.message).not.toContain("hunter2");
    await s.close();
  });
});
