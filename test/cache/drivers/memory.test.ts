import { describe, expect, test } from "bun:test";
import { MemoryStore } from "../../../src/cache/drivers/memory.ts";
import { FrozenClock } from "../../harness.ts";
import { storeContract } from "../store-contract.ts";

storeContract({
  name: "memory",
  async create() {
    const clock = new FrozenClock();
    return { store: new MemoryStore(clock), clock };
  },
  async advance(clock, ms) {
    (clock as FrozenClock).advance(ms);
  },
});

describe("MemoryStore LRU bound", () => {
  test("evicts the least recently used entry past max_entries", async () => {
    const s = new MemoryStore(new FrozenClock(), { maxEntries: 3 });
    for (const k of ["a", "b", "c"]) await s.put(k, k, null);
    await s.get("a"); // a is now the most recent
    await s.put("d", "d", null);
    expect(await s.many(["a", "b", "c", "d"])).toEqual(["a", undefined, "c", "d"]);
  });

  test("evicts by bytes and keeps a single oversized value alone", async () => {
    const s = new MemoryStore(new FrozenClock(), { maxBytes: 100 });
    await s.put("a", "x".repeat(40), null);
    await s.put("b", "y".repeat(40), null);
    await s.put("c", "z".repeat(40), null);
    expect(await s.get("a")).toBeUndefined();
    expect((await s.stats()).bytes).toBeLessThanOrEqual(100);
    await s.put("big", "w".repeat(500), null);
    expect(await s.get("big")).toBe("w".repeat(500));
    expect((await s.stats()).entries).toBe(1);
  });
});
