/**
 * One contract for every queue driver (Hono's contract-suite habit): the sqlite and redis tests
 * both call `queueContract`. Time is passed explicitly, so no test sleeps.
 */
import { describe, expect, test } from "bun:test";
import type { QueueDriver } from "../../src/queue/types.ts";

const T0 = Date.UTC(2026, 0, 1);
const LEASE = 90_000;

export function queueContract(name: string, create: () => Promise<QueueDriver>): void {
  describe(`${name} driver`, () => {
    test("push returns ids in order and the jobs are waiting", async () => {
      const d = await create();
      const ids = await d.push([{ handler: "a", payload: { n: 1 }, queue: "default" }, { handler: "a", payload: { n: 2 }, queue: "default" }], T0);
      expect(ids.length).toBe(2);
      expect(ids[1]!).toBeGreaterThan(ids[0]!);
      const rows = await d.list({ limit: 10 }, T0);
      expect(rows.map((r) => [r.id, r.status, JSON.parse(r.payload)])).toEqual([
        [ids[0], "waiting", { n: 1 }],
        [ids[1], "waiting", { n: 2 }],
      ]);
    });

    test("reserve claims FIFO up to the limit, counts the attempt and hides the job for the lease", async () => {
      const d = await create();
      const ids = await d.push([1, 2, 3].map((n) => ({ handler: "a", payload: n, queue: "default" })), T0);
      const got = await d.reserve(["default"], 2, T0, LEASE);
      expect(got.map((j): unknown[] => [j.id, j.attempts, j.reservedUntil])).toEqual([
        [ids[0], 1, T0 + LEASE],
        [ids[1], 1, T0 + LEASE],
      ]);
      const more = await d.reserve(["default"], 5, T0 + 1000, LEASE);
      expect(more.map((j): unknown => j.id)).toEqual([ids[2]]);
      expect(await d.reserve(["default"], 5, T0 + 2000, LEASE)).toEqual([]);
      expect((await d.list({ status: "reserved", limit: 10 }, T0 + 2000)).length).toBe(3);
    });

    test("an expired lease makes the job available again; the stale worker's ack is ignored", async () => {
      const d = await create();
      const [id] = await d.push([{ handler: "a", queue: "default" }], T0);
      const [first] = await d.reserve(["default"], 1, T0, LEASE);
      expect(await d.reserve(["default"], 1, T0 + LEASE - 1, LEASE)).toEqual([]);
      const [second] = await d.reserve(["default"], 1, T0 + LEASE, LEASE);
      expect(second!.id).toBe(id!);
      expect(second!.attempts).toBe(2);
      await d.settle([{ id: id!, attempts: first!.attempts, kind: "done" }], T0 + LEASE + 1);
      expect((await d.list({ limit: 10 }, T0 + LEASE + 1)).length).toBe(1);
      await d.settle([{ id: id!, attempts: second!.attempts, kind: "done" }], T0 + LEASE + 2);
      expect(await d.list({ limit: 10 }, T0 + LEASE + 2)).toEqual([]);
    });

    test("the lease runs from reservation, not from push", async () => {
      const d = await create();
      await d.push([{ handler: "a", queue: "default" }], T0);
      const late = T0 + 10 * LEASE; // waited long before a worker took it
      expect((await d.reserve(["default"], 1, late, LEASE)).length).toBe(1);
      expect(await d.reserve(["default"], 1, late + 1, LEASE)).toEqual([]);
    });

    test("extend keeps a running job's lease", async () => {
      const d = await create();
      await d.push([{ handler: "a", queue: "default" }], T0);
      const [j] = await d.reserve(["default"], 1, T0, LEASE);
      await d.extend([{ id: j!.id, attempts: j!.attempts }], T0 + 2 * LEASE);
      expect(await d.reserve(["default"], 1, T0 + LEASE + 1, LEASE)).toEqual([]);
      expect((await d.reserve(["default"], 1, T0 + 2 * LEASE, LEASE)).length).toBe(1);
    });

    test("release puts the job back after its delay; fail moves it to failed with the reason", async () => {
      const d = await create();
      const [a, b] = await d.push([{ handler: "a", queue: "default", payload: "x" }, { handler: "b", queue: "default", payload: "y" }], T0);
      const js = await d.reserve(["default"], 2, T0, LEASE);
      await d.settle([
        { id: a!, attempts: js[0]!.attempts, kind: "release", delayMs: 5000 },
        { id: b!, attempts: js[1]!.attempts, kind: "fail", reason: "Error: boom", output: "out" },
      ], T0 + 10);
      expect(await d.reserve(["default"], 5, T0 + 4000, LEASE)).toEqual([]);
      const again = await d.reserve(["default"], 5, T0 + 5010, LEASE);
      expect(again.map((j): unknown[] => [j.id, j.attempts])).toEqual([[a, 2]]);
      const failed = await d.failed({ limit: 10 });
      expect(failed.map((f) => [f.job_id, f.handler, JSON.parse(f.payload), f.exception, f.output, f.attempts])).toEqual([[b, "b", "y", "Error: boom", "out", 1]]);
    });

    test("queues are taken in strict order; higher priority first within a queue", async () => {
      const d = await create();
      await d.push([{ handler: "low", queue: "low" }, { handler: "p0", queue: "high" }, { handler: "p5", queue: "high", priority: 5 }], T0);
      const got = await d.reserve(["high", "low"], 2, T0, LEASE);
      expect(got.map((j) => j.handler).sort()).toEqual(["p0", "p5"]);
      expect((await d.reserve(["high", "low"], 1, T0, LEASE)).map((j) => j.handler)).toEqual(["low"]);
      const d2 = await create();
      await d2.push([{ handler: "p0", queue: "q" }, { handler: "p5", queue: "q", priority: 5 }], T0);
      expect((await d2.reserve(["q"], 1, T0, LEASE)).map((j) => j.handler)).toEqual(["p5"]);
    });

    test("delayed jobs wait; nextVisibleAt names the moment", async () => {
      const d = await create();
      await d.push([{ handler: "a", queue: "default", delay: 30 }], T0);
      expect(await d.reserve(["default"], 1, T0 + 29_999, LEASE)).toEqual([]);
      expect(await d.nextVisibleAt(["default"])).toBe(T0 + 30_000);
      expect((await d.reserve(["default"], 1, T0 + 30_000, LEASE)).length).toBe(1);
    });

    test("a unique key skips duplicates until the job finishes", async () => {
      const d = await create();
      const [a, b] = await d.push([{ handler: "a", queue: "default", uniqueKey: "k" }, { handler: "a", queue: "default", uniqueKey: "k" }], T0);
      expect(a).toBeNumber();
      expect(b).toBeNull();
      const [j] = await d.reserve(["default"], 1, T0, LEASE);
      await d.settle([{ id: j!.id, attempts: j!.attempts, kind: "done" }], T0);
      expect(await d.push([{ handler: "a", queue: "default", uniqueKey: "k" }], T0)).not.toEqual([null]);
      const [x] = await d.push([{ handler: "a", queue: "default", uniqueKey: "t", uniqueFor: 10 }], T0);
      expect(x).toBeNumber();
      expect(await d.push([{ handler: "a", queue: "default", uniqueKey: "t" }], T0 + 9_000)).toEqual([null]);
      expect((await d.push([{ handler: "a", queue: "default", uniqueKey: "t" }], T0 + 10_000))[0]).toBeNumber();
    });

    test("a chain pushes the next link on success and the catch job on failure", async () => {
      const d = await create();
      await d.push([{ handler: "one", queue: "default", chain: [{ handler: "two", queue: "default" }, { handler: "three", queue: "default" }], catch: { handler: "oops", queue: "default" } }], T0);
      let [j] = await d.reserve(["default"], 5, T0, LEASE);
      expect(j!.handler).toBe("one");
      await d.settle([{ id: j!.id, attempts: j!.attempts, kind: "done" }], T0);
      [j] = await d.reserve(["default"], 5, T0, LEASE);
      expect(j!.handler).toBe("two");
      await d.settle([{ id: j!.id, attempts: j!.attempts, kind: "fail", reason: "no" }], T0);
      const rest = await d.reserve(["default"], 5, T0, LEASE);
      expect(rest.map((r) => r.handler)).toEqual(["oops"]);
    });

    test("a batch counts its jobs and pushes then/catch/finally", async () => {
      const d = await create();
      const ok = await d.createBatch({ name: "b1", jobs: [{ handler: "a", queue: "default" }, { handler: "a", queue: "default" }], then: { handler: "then", queue: "cb" }, finally: { handler: "fin", queue: "cb" } }, T0);
      expect(ok.jobIds.length).toBe(2);
      const js = await d.reserve(["default"], 5, T0, LEASE);
      expect(js.every((j) => j.batchId === ok.id)).toBe(true);
      await d.settle(js.map((j) => ({ id: j.id, attempts: j.attempts, kind: "done" as const })), T0);
      expect((await d.batch(ok.id))!).toMatchObject({ total: 2, pending: 0, failed: 0, finished_at: T0 });
      expect((await d.reserve(["cb"], 5, T0, LEASE)).map((j) => j.handler).sort()).toEqual(["fin", "then"]);

      const bad = await d.createBatch({ jobs: [{ handler: "a", queue: "q2" }, { handler: "a", queue: "q2" }], then: { handler: "then", queue: "cb2" }, catch: { handler: "catch", queue: "cb2" }, finally: { handler: "fin", queue: "cb2" } }, T0);
      const [x, y] = await d.reserve(["q2"], 5, T0, LEASE);
      await d.settle([{ id: x!.id, attempts: 1, kind: "fail", reason: "r" }], T0);
      expect((await d.batch(bad.id))!.cancelled_at).toBe(T0);
      await d.settle([{ id: y!.id, attempts: 1, kind: "done" }], T0);
      const b = (await d.batch(bad.id))!;
      expect([b.pending, b.failed, b.failed_ids]).toEqual([0, 1, [x!.id]]);
      expect((await d.reserve(["cb2"], 5, T0, LEASE)).map((j) => j.handler).sort()).toEqual(["catch", "fin"]);
    });

    test("paused queues are skipped until resumed", async () => {
      const d = await create();
      await d.push([{ handler: "a", queue: "p" }], T0);
      await d.setPaused("p", true);
      expect(await d.pausedQueues()).toEqual(["p"]);
      expect(await d.reserve(["p"], 1, T0, LEASE)).toEqual([]);
      await d.setPaused("p", false);
      expect((await d.reserve(["p"], 1, T0, LEASE)).length).toBe(1);
    });

    test("failed jobs can be retried, forgotten and flushed", async () => {
      const d = await create();
      await d.push([1, 2, 3].map((n) => ({ handler: "a", queue: "default", payload: n, tries: 3 })), T0);
      const js = await d.reserve(["default"], 3, T0, LEASE);
      await d.settle(js.map((j) => ({ id: j.id, attempts: j.attempts, kind: "fail" as const, reason: "r" })), T0);
      const failed = await d.failed({ limit: 10 });
      expect(failed.length).toBe(3);
      expect(await d.retry([failed[0]!.id], T0 + 1, undefined)).toEqual([failed[0]!.id]);
      const [again] = await d.reserve(["default"], 5, T0 + 1, LEASE);
      expect([JSON.parse(again!.payload), again!.attempts, again!.tries]).toEqual([1, 1, 3]);
      expect(await d.forget(failed[1]!.id)).toBe(true);
      expect(await d.forget(failed[1]!.id)).toBe(false);
      expect(await d.flushFailed(3_600_000, T0 + 1000)).toBe(0);
      expect(await d.flushFailed(undefined, T0)).toBe(1);
      expect(await d.failed({ limit: 10 })).toEqual([]);
    });

    test("clear deletes a queue's pending jobs only; stats count per queue", async () => {
      const d = await create();
      await d.push([{ handler: "a", queue: "x" }, { handler: "a", queue: "x", delay: 60 }, { handler: "a", queue: "y" }], T0);
      await d.reserve(["y"], 1, T0, LEASE);
      const stats = await d.stats(T0 + 1000);
      expect(stats.map((s) => [s.queue, s.waiting, s.delayed, s.reserved])).toEqual([
        ["x", 1, 1, 0],
        ["y", 0, 0, 1],
      ]);
      expect(stats[0]!.oldest_waiting_s).toBe(1);
      expect(await d.clear("x")).toBe(2);
      expect((await d.list({ limit: 10 }, T0)).map((r) => r.queue)).toEqual(["y"]);
    });

    test("restart signal, locks and rate counters", async () => {
      const d = await create();
      expect(await d.restartSignal()).toBe(0);
      await d.signalRestart(T0);
      expect(await d.restartSignal()).toBe(T0);
      expect(await d.acquireLock("k", "me", 1000, T0)).toBe(true);
      expect(await d.acquireLock("k", "you", 1000, T0 + 500)).toBe(false);
      expect(await d.acquireLock("k", "you", 1000, T0 + 1000)).toBe(true);
      await d.releaseLock("k", "you");
      expect(await d.acquireLock("k", "me", 1000, T0 + 1001)).toBe(true);
      expect((await d.hit("h", 1000, T0)).count).toBe(1);
      expect(await d.hit("h", 1000, T0 + 10)).toEqual({ count: 2, resetAt: T0 + 1000 });
      expect((await d.hits("h", T0 + 20)).count).toBe(2);
      expect((await d.hit("h", 1000, T0 + 1000)).count).toBe(1);
      await d.resetHits("h");
      expect((await d.hits("h", T0 + 1001)).count).toBe(0);
    });

    test("waitForChange wakes on a push from the same process", async () => {
      const d = await create();
      const waiting = d.waitForChange(10_000);
      await d.push([{ handler: "a", queue: "default" }], T0);
      await waiting; // resolves long before 10 s, or the test times out
    });
  });
}
