import { describe, expect, test } from "bun:test";
import { replay } from "../../../src/workflow/engine/replay.ts";
import { defineWorkflow } from "../../../src/workflow/sdk.ts";
import type { WorkflowDefinition, WorkflowEvent } from "../../../src/workflow/types.ts";

/** Build a history from compact rows; seq and at follow the row order. */
function history(...rows: Array<[WorkflowEvent["type"], number | null, any?]>): WorkflowEvent[] {
  return rows.map(([type, cid, data], i) => ({ seq: i + 1, type, cid, at: 1000 + i, data: data ?? {} }));
}

const run = (definition: WorkflowDefinition, h: WorkflowEvent[], taskSeq = 0) =>
  replay({ runId: "wf-1", workflowName: "t", definition, history: h, taskNow: 5000, taskSeq });

const threeSteps = defineWorkflow(async (ctx, input: { n: number }) => {
  const a = await ctx.activity<number>("double", input.n);
  const b = await ctx.activity<number>("double", a);
  await ctx.sleep("1s");
  return b + 1;
});

describe("replay", () => {
  test("a fresh run schedules its first activity and waits", async () => {
    const r = await run(threeSteps, history(["WorkflowStarted", null, { input: { n: 2 } }]));
    expect(r.outcome).toEqual({ kind: "waiting" });
    expect(r.newEvents).toEqual([{ type: "ActivityScheduled", cid: 0, data: { name: "double", input: 2, options: {} } }]);
    expect(r.waitingOn).toBe("activity double");
  });

  test("recorded results are fed back and only new commands are emitted", async () => {
    const h = history(
      ["WorkflowStarted", null, { input: { n: 2 } }],
      ["ActivityScheduled", 0, { name: "double", input: 2 }],
      ["ActivityCompleted", 0, { result: 4 }],
    );
    const r = await run(threeSteps, h, 2);
    expect(r.newEvents).toEqual([{ type: "ActivityScheduled", cid: 1, data: { name: "double", input: 4, options: {} } }]);
  });

  test("a timer records its fire time and completes the run when fired", async () => {
    const h = history(
      ["WorkflowStarted", null, { input: { n: 2 } }],
      ["ActivityScheduled", 0, { name: "double" }],
      ["ActivityCompleted", 0, { result: 4 }],
      ["ActivityScheduled", 1, { name: "double" }],
      ["ActivityCompleted", 1, { result: 8 }],
    );
    const waiting = await run(threeSteps, h);
    expect(waiting.newEvents).toEqual([{ type: "TimerStarted", cid: 2, data: { ms: 1000, fire_at: 6000, purpose: "sleep" } }]);
    expect([...waiting.timers]).toEqual([[2, 6000]]);
    const done = await run(threeSteps, [...h, ...history(["TimerStarted", 2, { fire_at: 6000 }], ["TimerFired", 2]).map((e, i) => ({ ...e, seq: 6 + i }))]);
    expect(done.outcome).toEqual({ kind: "completed", output: 9 });
    expect(done.newEvents).toEqual([]);
  });

  test("a changed activity name is reported as non-determinism naming the event", async () => {
    const changed = defineWorkflow(async (ctx) => {
      await ctx.activity("triple", 1);
    });
    const h = history(["WorkflowStarted", null, { input: null }], ["ActivityScheduled", 0, { name: "double" }]);
    const r = await run(changed, h);
    expect(r.outcome.kind).toBe("nondeterminism");
    const err = (r.outcome as any).error;
    expect(err.message).toContain("history event #2 says the code calls activity 'double', but it now calls activity 'triple'");
    expect(err.details).toEqual({ seq: 2, type: "ActivityScheduled", cid: 0, name: "double" });
  });

  test("a removed command is non-determinism even if the code swallows errors", async () => {
    const removed = defineWorkflow(async (ctx) => {
      try {
        await ctx.sleep(10);
      } catch {}
      return "done";
    });
    const h = history(["WorkflowStarted", null, {}], ["ActivityScheduled", 0, { name: "double" }]);
    const r = await run(removed, h);
    expect(r.outcome.kind).toBe("nondeterminism");
  });

  test("signals are buffered and consumed in order; timeouts resolve undefined", async () => {
    const wf = defineWorkflow(async (ctx) => {
      const a = await ctx.waitForSignal("go");
      const b = await ctx.waitForSignal("go", { timeout: "1m" });
      return [a, b];
    });
    const h = history(["WorkflowStarted", null, {}], ["SignalReceived", null, { name: "go", payload: 1 }], ["SignalReceived", null, { name: "go", payload: 2 }]);
    expect((await run(wf, h)).outcome).toEqual({ kind: "completed", output: [1, 2] });
    const h2 = history(["WorkflowStarted", null, {}], ["SignalReceived", null, { name: "go", payload: 1 }], ["TimerStarted", 0, { fire_at: 9 }], ["TimerFired", 0]);
    expect((await run(wf, h2)).outcome).toEqual({ kind: "completed", output: [1, undefined] });
  });

  test("conditions re-check after each signal handled by onSignal", async () => {
    const wf = defineWorkflow(async (ctx) => {
      let votes = 0;
      ctx.onSignal("vote", (n: number) => (votes += n));
      await ctx.condition(() => votes >= 3);
      return votes;
    });
    const h = history(["WorkflowStarted", null, {}], ["SignalReceived", null, { name: "vote", payload: 1 }]);
    expect((await run(wf, h)).outcome.kind).toBe("waiting");
    const h2 = [...h, ...history(["SignalReceived", null, { name: "vote", payload: 2 }]).map((e) => ({ ...e, seq: 3 }))];
    expect((await run(wf, h2)).outcome).toEqual({ kind: "completed", output: 3 });
  });

  test("ctx.all schedules in parallel; sideEffect, uuid and now replay identically", async () => {
    const wf = defineWorkflow(async (ctx) => {
      const r = await ctx.all([ctx.activity("a"), ctx.activity("b")]);
      const v = await ctx.sideEffect(() => Math.random());
      return { r, v, id: ctx.uuid(), now: ctx.now() };
    });
    const first = await run(wf, history(["WorkflowStarted", null, {}]));
    expect(first.newEvents.map((e) => e.data.name)).toEqual(["a", "b"]);
    const h = history(["WorkflowStarted", null, {}], ["ActivityScheduled", 0, { name: "a" }], ["ActivityScheduled", 1, { name: "b" }], ["ActivityCompleted", 1, { result: "B" }], ["ActivityCompleted", 0, { result: "A" }]);
    const second = await run(wf, h);
    const side = second.newEvents[0]!;
    expect(side.type).toBe("SideEffect");
    const out = (second.outcome as any).output;
    expect(out.r).toEqual(["A", "B"]);
    expect(out.now).toBe(1004);
    const third = await run(wf, [...h, { seq: 6, type: "SideEffect", cid: 2, at: 1005, data: side.data }]);
    expect((third.outcome as any).output).toEqual(out);
    expect(third.newEvents).toEqual([]);
  });

  test("failure runs compensations in reverse order, then fails", async () => {
    const wf = defineWorkflow(async (ctx) => {
      await ctx.activity("reserve");
      ctx.addCompensation(() => ctx.activity("release"));
      await ctx.activity("charge");
      ctx.addCompensation(() => ctx.activity("refund"));
      await ctx.activity("ship");
    });
    const h = history(
      ["WorkflowStarted", null, {}],
      ["ActivityScheduled", 0, { name: "reserve" }],
      ["ActivityCompleted", 0],
      ["ActivityScheduled", 1, { name: "charge" }],
      ["ActivityCompleted", 1],
      ["ActivityScheduled", 2, { name: "ship" }],
      ["ActivityFailed", 2, { error: { name: "Error", message: "no truck" } }],
    );
    const r = await run(wf, h);
    expect(r.newEvents.map((e) => e.data.name)).toEqual(["refund"]);
    const h2 = [...h, ...history(["ActivityScheduled", 3, { name: "refund" }], ["ActivityCompleted", 3], ["ActivityScheduled", 4, { name: "release" }], ["ActivityCompleted", 4]).map((e, i) => ({ ...e, seq: 8 + i }))];
    const r2 = await run(wf, h2.slice(0, 9));
    expect(r2.newEvents.map((e) => e.data.name)).toEqual(["release"]);
    const r3 = await run(wf, h2);
    expect(r3.outcome.kind).toBe("failed");
    expect((r3.outcome as any).error.message).toBe("activity ship failed: no truck");
    expect((r3.outcome as any).failedAfterSeq).toBe(7);
  });

  test("cancel rejects pending waits and runs compensations", async () => {
    const wf = defineWorkflow(async (ctx) => {
      await ctx.activity("book");
      ctx.addCompensation(() => ctx.activity("unbook"));
      await ctx.sleep("1d");
    });
    const h = history(["WorkflowStarted", null, {}], ["ActivityScheduled", 0, { name: "book" }], ["ActivityCompleted", 0], ["TimerStarted", 1, { fire_at: 1 }], ["CancelRequested", null, { reason: "by user" }]);
    const r = await run(wf, h);
    expect(r.newEvents.map((e) => e.data.name)).toEqual(["unbook"]);
    expect(r.timers.size).toBe(0);
    const r2 = await run(wf, [...h, ...history(["ActivityScheduled", 2, { name: "unbook" }], ["ActivityCompleted", 2]).map((e, i) => ({ ...e, seq: 6 + i }))]);
    expect(r2.outcome).toEqual({ kind: "cancelled", error: expect.objectContaining({ name: "CancelledFailure", message: "by user" }) });
  });

  test("getVersion: new runs take the max version, old runs the default", async () => {
    const wf = defineWorkflow(async (ctx) => {
      const v = ctx.getVersion("add-fraud-check", 0, 1);
      if (v === 1) await ctx.activity("fraud-check");
      await ctx.activity("charge");
      return v;
    });
    const fresh = await run(wf, history(["WorkflowStarted", null, {}]));
    expect(fresh.newEvents.map((e) => e.type)).toEqual(["VersionMarker", "ActivityScheduled"]);
    // started under the old code: it already scheduled charge as command 0
    const old = history(["WorkflowStarted", null, {}], ["ActivityScheduled", 0, { name: "charge" }], ["ActivityCompleted", 0]);
    expect((await run(wf, old, 3)).outcome).toEqual({ kind: "completed", output: 0 });
  });

  test("voided ranges (workflow:retry) are skipped", async () => {
    const wf = defineWorkflow(async (ctx) => ctx.activity("flaky"));
    const h = history(
      ["WorkflowStarted", null, {}],
      ["ActivityScheduled", 0, { name: "flaky" }],
      ["ActivityFailed", 0, { error: { name: "Error", message: "x" } }],
      ["WorkflowFailed", null, {}],
      ["WorkflowRetried", null, { from_seq: 3 }],
    );
    expect((await run(wf, h)).outcome.kind).toBe("waiting");
    const h2 = [...h, { seq: 6, type: "ActivityCompleted" as const, cid: 0, at: 1, data: { result: "ok" } }];
    expect((await run(wf, h2)).outcome).toEqual({ kind: "completed", output: "ok" });
  });

  test("waiting on a foreign promise is reported, not a silent hang", async () => {
    const wf = defineWorkflow(async () => {
      await new Promise((r) => setTimeout(r, 50));
    });
    const r = await run(wf, history(["WorkflowStarted", null, {}]));
    expect(r.outcome.kind).toBe("nondeterminism");
    expect((r.outcome as any).error.name).toBe("WorkflowBlockedError");
  });

  test("a sideEffect returns the recorded JSON on the first run too", async () => {
    const wf = defineWorkflow(async (ctx) => {
      const d = await ctx.sideEffect(() => new Date(0));
      return typeof d;
    });
    const r = await run(wf, history(["WorkflowStarted", null, {}]));
    expect(r.outcome).toEqual({ kind: "completed", output: "string" });
  });
});
