/** The cache:* commands through the real CLI, against a temp project's store. */
import { describe, expect, test } from "bun:test";
import { runSecurely, tempProject } from "../../harness.ts";

describe("cache:* commands", () => {
  test("put, get, increment, decrement, forget, stats, prune, flush", async () => {
    const { env } = tempProject();
    const run = (...args: string[]) => runSecurely(args, { env });
    expect((await run("cache:put", "greeting", "hello")).code).toBe(0);
    expect((await run("cache:get", "greeting")).stdout).toBe("hello\n");
    await run("cache:put", "obj", '{"a":[1,true,null]}', "--ttl", "1h");
    const got = JSON.parse((await run("cache:get", "obj", "--json")).stdout);
    expect(got.value).toEqual({ a: [1, true, null] });
    expect(got.ttl_seconds).toBeGreaterThan(3500);
    await run("cache:put", "num", "42", "--string");
    expect(JSON.parse((await run("cache:get", "num", "--json")).stdout).value).toBe("42");
    expect((await run("cache:increment", "hits")).stdout).toBe("1\n");
    expect((await run("cache:increment", "hits", "10")).stdout).toBe("11\n");
    expect((await run("cache:decrement", "hits", "2")).stdout).toBe("9\n");
    const stats = JSON.parse((await run("cache:stats", "--json")).stdout);
    expect(stats).toMatchObject({ store: "sqlite", entries: 4, hits: 3, misses: 0 });
    expect((await run("cache:forget", "greeting")).stdout).toContain("forgot greeting");
    expect((await run("cache:prune")).code).toBe(0);
    expect((await run("cache:flush")).code).toBe(0);
    expect(JSON.parse((await run("cache:stats", "--json")).stdout).entries).toBe(0);
  });

  test("flush --tags only drops tagged entries", async () => {
    const { env } = tempProject();
    await runSecurely(["cache:put", "plain", "1"], { env });
    const r = await runSecurely(["cache:flush", "--tags", "a, b"], { env });
    expect(r.stdout).toContain("flushed tags a, b");
    expect((await runSecurely(["cache:get", "plain"], { env })).stdout).toBe("1\n");
    expect((await runSecurely(["cache:clear"], { env })).stdout).toContain("flushed the sqlite cache"); // Laravel's name
    expect((await runSecurely(["cache:get", "plain"], { env })).code).toBe(1);
  });

  test("bad input: one clear line, non-zero exit, nothing stored", async () => {
    const { env } = tempProject();
    const miss = await runSecurely(["cache:get", "nope"], { env });
    expect(miss.code).toBe(1);
    expect(miss.stderr).toBe("securely: cache key 'nope' not found in the sqlite store\n");
    await runSecurely(["cache:put", "text", "abc"], { env });
    const notNum = await runSecurely(["cache:increment", "text"], { env });
    expect(notNum.code).toBe(1);
    expect(notNum.stderr).toContain("cache key 'text' does not hold a number");
    expect((await runSecurely(["cache:get", "text"], { env })).stdout).toBe("abc\n");
    const badTtl = await runSecurely(["cache:put", "k", "v", "--ttl", "soon"], { env });
    expect(badTtl.code).toBe(2);
    expect(badTtl.stderr).toContain("--ttl 'soon' is not a duration");
    const badBy = await runSecurely(["cache:increment", "k", "lots"], { env });
    expect(badBy.code).toBe(2);
    const badStore = await runSecurely(["cache:get", "k", "--store", "mongo"], { env });
    expect(badStore.stderr).toContain("cache store [mongo] is not defined — use one of sqlite, memory, redis, null");
    expect((await runSecurely(["cache:get", "k"], { env })).code).toBe(1);
  });

  test("an unknown driver in the config names the key and the choices", async () => {
    const { env } = tempProject("cache:\n  store: mongo\n  memroy: {}\n");
    const r = await runSecurely(["cache:get", "k"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cache.store: expected one of sqlite, memory, redis, null");
    expect(r.stderr).toContain("cache.memroy: unknown key — did you mean 'memory'?");
  });
});
