/**
 * The workflow:* commands as a user runs them: real CLI processes against one store.
 */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../harness.ts";

// child processes on a loaded 2-core machine: bunfig's [test] timeout is not applied by bun 1.4.5
setDefaultTimeout(30_000);

const V1 = `
import { defineWorkflow, defineActivity } from "securely";

export const hello = defineActivity(async (who: string) => "hello " + who);
export const greet = defineWorkflow(async (ctx, input: { who: string }) => {
  const a = await ctx.activity("hello", input.who);
  const next = await ctx.waitForSignal<string>("next");
  return [a, await ctx.activity("hello", next)];
});
export const forever = defineWorkflow(async (ctx) => { await ctx.sleep("1d"); });
`;

/** The same workflow after an incompatible edit: a new activity before the old ones. */
const V2 = V1.replace(`const a = await ctx.activity("hello", input.who);`, `await ctx.sleep(1); const a = await ctx.activity("hello", input.who);`);

/** The edit guarded by getVersion: old runs keep the old path. */
const V3 = V1.replace(
  `const a = await ctx.activity("hello", input.who);`,
  `if (ctx.getVersion("pause-first", 0, 1) === 1) await ctx.sleep(1); const a = await ctx.activity("hello", input.who);`,
);

function setup(code = V1) {
  const p = tempProject(`workflow:\n  files: [./wf.ts]\n  poll_interval_ms: 50\n`);
  writeFileSync(join(p.dir, "wf.ts"), code);
  return p;
}

const json = (r: { stdout: string }) => JSON.parse(r.stdout);

describe("workflow:* commands", () => {
  test("run, signal, status, history, list; --wait --work runs to the end", async () => {
    const p = setup();
    const env = p.env;
    const r = await runSecurely(["workflow:run", "greet", '{"who":"ana"}', "--id", "g1", "--json"], { env });
    expect(json(r)).toEqual({ id: "g1", name: "greet", status: "running" });
    expect((await runSecurely(["workflow:signal", "g1", "next", '"bob"'], { env })).stdout).toBe("signal next recorded for g1\n");
    const list = json(await runSecurely(["workflow:list", "--status", "running", "--json"], { env }));
    expect(list.map((x: any) => x.id)).toEqual(["g1"]);
    const st = json(await runSecurely(["workflow:status", "g1", "--json"], { env }));
    expect(st.signals_not_yet_seen).toEqual(["next"]);

    const w = await runSecurely(["workflow:run", "greet", '{"who":"cy"}', "--id", "g2", "--wait", "--work", "--timeout", "1"], { env });
    expect(w.code).toBe(1); // g2 waits for a signal: --timeout gives up, the run continues
    expect(w.stdout).toBe("g2 running\n");
    // g1 was completed by that worker
    const g1 = json(await runSecurely(["workflow:status", "g1", "--json"], { env }));
    expect(g1.status).toBe("completed");
    expect(g1.output).toEqual(["hello ana", "hello bob"]);
    const hist = await runSecurely(["workflow:history", "g1"], { env });
    expect(hist.stdout).toContain("SignalReceived");
    expect(hist.stdout.split("\n")[0]).toMatch(/^SEQ\s+AT\s+TYPE\s+CMD\s+DETAILS$/);
  });

  test("bad input is refused with a clear line and nothing written", async () => {
    const p = setup();
    const env = p.env;
    const bad = await runSecurely(["workflow:run", "greet", "{nope"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("INPUT is not valid JSON");
    const unknown = await runSecurely(["workflow:run", "gret"], { env });
    expect(unknown.stderr).toBe("securely: unknown workflow 'gret' — known workflows: forever, greet\n");
    expect((await runSecurely(["workflow:status", "missing"], { env })).stderr).toContain("workflow run 'missing' not found");
    expect((await runSecurely(["workflow:list", "--status", "sleeping"], { env })).stderr).toContain("unknown status 'sleeping'");
    expect(json(await runSecurely(["workflow:list", "--json"], { env }))).toEqual([]);
    const broken = tempProject(`workflow:\n  files: [./missing.ts]\n`);
    const r = await runSecurely(["workflow:work"], { env: broken.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("workflow file: file");
    expect(r.stderr).toContain("missing.ts not found");
  });

  test("cancel, terminate, prune", async () => {
    const p = setup();
    const env = p.env;
    await runSecurely(["workflow:run", "forever", "--id", "f1"], { env });
    await runSecurely(["workflow:run", "forever", "--id", "f2"], { env });
    expect((await runSecurely(["workflow:terminate", "f1", "--reason", "test"], { env })).stdout).toBe("terminated f1\n");
    expect((await runSecurely(["workflow:terminate", "f1"], { env })).stderr).toContain("cannot terminate workflow 'f1': it is terminated");
    expect((await runSecurely(["workflow:cancel", "f2"], { env })).stdout).toBe("cancel requested for f2\n");
    await runSecurely(["workflow:work", "--stop-when-empty"], { env });
    expect(json(await runSecurely(["workflow:status", "f2", "--json"], { env })).status).toBe("cancelled");
    expect(json(await runSecurely(["workflow:prune", "--days", "1", "--json"], { env }))).toEqual({ deleted: 0, days: 1 });
    expect(json(await runSecurely(["workflow:prune", "--days", "0", "--json"], { env }))).toEqual({ deleted: 2, days: 0 });
  });

  test("code changed under a running workflow: non-determinism names the event; getVersion fixes it", async () => {
    const p = setup();
    const env = p.env;
    await runSecurely(["workflow:run", "greet", '{"who":"ana"}', "--id", "n1"], { env });
    await runSecurely(["workflow:work", "--stop-when-empty"], { env }); // runs the first activity, waits for "next"
    writeFileSync(join(p.dir, "wf.ts"), V2);
    await runSecurely(["workflow:signal", "n1", "next", '"bob"'], { env });
    await runSecurely(["workflow:work", "--stop-when-empty"], { env });
    const st = json(await runSecurely(["workflow:status", "n1", "--json"], { env }));
    expect(st.status).toBe("failed");
    expect(st.error.name).toBe("NonDeterminismError");
    expect(st.error.message).toContain("at command 0 history event #2 says the code calls activity 'hello', but it now starts a timer");
    expect(st.error.details).toEqual({ seq: 2, type: "ActivityScheduled", cid: 0, name: "hello" });

    writeFileSync(join(p.dir, "wf.ts"), V3);
    expect((await runSecurely(["workflow:retry", "n1"], { env })).stdout).toContain("n1 is running again");
    await runSecurely(["workflow:run", "greet", '{"who":"new"}', "--id", "n2"], { env });
    await runSecurely(["workflow:signal", "n2", "next", '"x"'], { env });
    await runSecurely(["workflow:work", "--stop-when-empty"], { env });
    const n1 = json(await runSecurely(["workflow:status", "n1", "--json"], { env }));
    expect(n1.output).toEqual(["hello ana", "hello bob"]);
    const n2 = json(await runSecurely(["workflow:history", "n2", "--json"], { env }));
    expect(n2.map((e: any) => e.type)).toContain("VersionMarker");
    expect(n2.map((e: any) => e.type)).toContain("TimerStarted");
  });
});

describe("workflow service in serve", () => {
  test("serve runs a workflow worker when workflow.enabled; metrics count its work; INPUT from stdin", async () => {
    const p = tempProject(`metrics:\n  listen: 127.0.0.1:0\nworkflow:\n  enabled: true\n  files: [./wf.ts]\n  poll_interval_ms: 50\n`);
    writeFileSync(join(p.dir, "wf.ts"), V1);
    const { startSecurely, eventually } = await import("../harness.ts");
    const s = await startSecurely(["serve"], { env: p.env });
    const r = await runSecurely(["workflow:run", "greet", "-", "--id", "s1"], { env: p.env, stdin: '{"who":"srv"}' });
    expect(r.code).toBe(0);
    await runSecurely(["workflow:signal", "s1", "next", '"eve"'], { env: p.env });
    await eventually(async () => json(await runSecurely(["workflow:status", "s1", "--json"], { env: p.env })).status === "completed", 15_000);
    const metrics = await (await fetch(`http://127.0.0.1:${s.port("metrics")}/metrics`)).text();
    expect(metrics).toMatch(/securely_workflow_tasks_total \d+/);
    expect(metrics).toContain('securely_workflow_activity_attempts_total{outcome="completed"} 2');
    expect(await s.stop()).toBe(0);
  });
});
