import { describe, expect, test } from "bun:test";
import { NullStore } from "../../../src/cache/drivers/null.ts";
import { Repository } from "../../../src/cache/repository.ts";

describe("NullStore", () => {
  test("stores nothing: every read misses, add and increment report failure", async () => {
    const repo = new Repository(new NullStore(), { statsFlushMs: 0 });
    await repo.put("a", 1);
    expect(await repo.get("a")).toBeNull();
    expect(await repo.add("a", 1)).toBe(false);
    expect(await repo.increment("a")).toBe(false);
    expect(await repo.remember("r", 60, () => 5)).toBe(5);
    expect(await repo.stats()).toMatchObject({ entries: 0, hits: 0 });
  });

  test("locks always succeed (Laravel's NoLock)", async () => {
    const repo = new Repository(new NullStore(), { statsFlushMs: 0 });
    expect(await repo.lock("x", 10).get()).toBe(true);
    expect(await repo.lock("x", 10).get()).toBe(true);
    expect(await repo.lock("x").get(() => "ran")).toBe("ran");
  });
});
