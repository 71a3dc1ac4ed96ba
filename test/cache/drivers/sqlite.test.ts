import { describe, expect, test } from "bun:test";
import { SqliteStore } from "../../../src/cache/drivers/sqlite.ts";
import { cacheMigrations } from "../../../src/cache/migrations.ts";
import { FrozenClock, tempStore } from "../../harness.ts";
import { storeContract } from "../store-contract.ts";

storeContract({
  name: "sqlite",
  async create() {
    const clock = new FrozenClock();
    return { store: new SqliteStore(tempStore(cacheMigrations), clock), clock };
  },
  async advance(clock, ms) {
    (clock as FrozenClock).advance(ms);
  },
});

describe("SqliteStore", () => {
  test("prune deletes expired rows and locks, and reports how many", async () => {
    const clock = new FrozenClock();
    const db = tempStore(cacheMigrations);
    const s = new SqliteStore(db, clock);
    await s.put("a", 1, clock.now() + 1000);
    await s.put("b", 1, null);
    await s.acquireLock("l", "me", clock.now() + 1000);
    clock.advance(2000);
    expect(await s.prune()).toBe(2);
    expect((db.db.query("SELECT key FROM cache_entries").all() as { key: string }[]).map((r) => r.key)).toEqual(["b"]);
  });

  test("a prefix scopes keys, and flush removes only that prefix", async () => {
    const clock = new FrozenClock();
    const db = tempStore(cacheMigrations);
    const a = new SqliteStore(db, clock, "A:");
    const lower = new SqliteStore(db, clock, "a:");
    await a.put("k", 1, null);
    await lower.put("k", 2, null);
    expect(await a.get("k")).toBe(1);
    await a.flush();
    expect(await a.get("k")).toBeUndefined();
    expect(await lower.get("k")).toBe(2);
  });
});

describe("SqliteStore.prune in chunks", () => {
  test("removes every expired row across several chunks and keeps the live ones", async () => {
    const clock = new FrozenClock();
    const db = tempStore(cacheMigrations);
    const s = new SqliteStore(db, clock);
    const insert = db.db.prepare("INSERT INTO cache_entries (key, value, expiration) VALUES (?1, '1', ?2)");
    db.tx(() => {
      for (let i = 0; i < 12_000; i++) insert.run(`k${String(i).padStart(5, "0")}`, i % 3 === 0 ? null : i % 3 === 1 ? clock.now() - 1 : clock.now() + 60_000);
    });
    expect(await s.prune()).toBe(4000);
    expect((db.db.query("SELECT COUNT(*) AS n FROM cache_entries").get() as { n: number }).n).toBe(8000);
    expect(await s.prune()).toBe(0);
  });
});
