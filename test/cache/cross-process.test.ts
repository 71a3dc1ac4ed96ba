/** Increments and locks must hold across processes: several real processes share one store. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { RedisStore } from "../../src/cache/drivers/redis.ts";
import { SqliteStore } from "../../src/cache/drivers/sqlite.ts";
import { cacheMigrations } from "../../src/cache/migrations.ts";
import type { CacheStore } from "../../src/cache/types.ts";
import { systemClock } from "../../src/core/clock.ts";
import { Store } from "../../src/core/store/store.ts";
import { BUN, tempDir } from "../harness.ts";
import { startRedis } from "./redis-server.ts";

const FIXTURE = join(import.meta.dir, "fixtures/contention-fixture.ts");
const PROCS = 4;
const EACH = 100;

async function hammer(driver: string, where: string, mode: string): Promise<void> {
  const procs = Array.from({ length: PROCS }, () =>
    Bun.spawn([BUN, FIXTURE, driver, where, mode, String(EACH)], { stdout: "inherit", stderr: "inherit" }),
  );
  const timer = setTimeout(() => procs.forEach((p) => p.kill("SIGKILL")), 60_000);
  const codes = await Promise.all(procs.map((p) => p.exited));
  clearTimeout(timer);
  expect(codes).toEqual(Array(PROCS).fill(0));
}

async function check(store: CacheStore, driver: string, where: string) {
  await hammer(driver, where, "incr");
  expect(await store.get("counter")).toBe(PROCS * EACH);
  await hammer(driver, where, "lock");
  expect(await store.get("plain")).toBe(PROCS * EACH);
}

describe("cache across processes", () => {
  test(`sqlite: ${PROCS} processes × ${EACH} increments and lock-guarded updates lose nothing`, async () => {
    const path = join(tempDir(), "store.db");
    const db = new Store({ path, migrations: cacheMigrations }); // migrate once before the children open it
    await check(new SqliteStore(db, systemClock), "sqlite", path);
    db.close();
  });

  test(`redis: ${PROCS} processes × ${EACH} increments and lock-guarded updates lose nothing`, async () => {
    const redis = await startRedis();
    const store = new RedisStore(systemClock, { url: redis.url, prefix: "xproc:" });
    await check(store, "redis", redis.url);
    await store.close();
  });
});
