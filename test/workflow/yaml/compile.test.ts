import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, runSecurely, tempProject } from "../../harness.ts";
import { project, type TestProject } from "../helpers.ts";

// child processes on a loaded 2-core machine: bunfig's [test] timeout is not applied by bun 1.4.5
setDefaultTimeout(30_000);


let p: TestProject | undefined;
afterEach(() => p?.close());

const BASE = `workflow:\n  lease_seconds: 2\n  activity_retry:\n    initial_interval: 0.01\n    maximum_attempts: 2\n`;

describe("YAML workflows", () => {
  test("steps pass data through templates and stdin; outputs are parsed JSON", async () => {
    p = await project(
      BASE +
        `workflows:
  deploy:
    steps:
      - name: build
        shell: 'echo "{\\"artifact\\": \\"app-\${{ input.version }}.tgz\\"}"'
      - name: pause
        sleep: 0.05
      - name: upload
        shell: 'echo "uploading \${{ steps.build.output.artifact }} for $WHO"; cat >/dev/null'
        env:
          WHO: '\${{ input.who }}'
      - name: stdin
        shell: cat
`,
    );
    const id = p.rt.client.start("deploy", { version: "1.2", who: "ops" });
    const run = await p.finish(id);
    expect(run.status).toBe("completed");
    expect(run.output).toEqual({
      build: { artifact: "app-1.2.tgz" },
      pause: null,
      upload: "uploading app-1.2.tgz for ops",
      stdin: { input: { version: "1.2", who: "ops" }, steps: { build: { output: { artifact: "app-1.2.tgz" } }, pause: { output: null }, upload: { output: "uploading app-1.2.tgz for ops" } } },
    });
  });

  test("a failing step runs on_failure compensations in reverse order", async () => {
    p = await project(
      BASE +
        `workflows:
  saga:
    steps:
      - name: reserve
        shell: 'echo reserve >> log'
        on_failure: { shell: 'echo release >> log' }
      - name: charge
        shell: 'echo charge >> log'
        on_failure: { shell: 'echo refund >> log' }
      - name: ship
        shell: 'echo ship-attempt >> log; exit 3'
        retry: { maximum_attempts: 2 }
`,
    );
    const id = p.rt.client.start("saga", null);
    const run = await p.finish(id);
    expect(run.status).toBe("failed");
    expect(run.error!.message).toContain("command exited with 3");
    // shell steps run in the config file's folder
    const log = readFileSync(join(p.dir, "log"), "utf8").trim().split("\n");
    expect(log).toEqual(["reserve", "charge", "ship-attempt", "ship-attempt", "refund", "release"]);
  });

  test("approval waits for approve or reject; reject fails the step and compensates", async () => {
    p = await project(
      BASE +
        `workflows:
  release:
    steps:
      - name: tag
        shell: 'echo v1'
        on_failure: { shell: 'echo untag' }
      - name: manager
        approval: Ship v1 to production?
        timeout: 1h
      - name: wait
        wait_for_signal: go
`,
    );
    const w = p.work();
    const a = p.rt.client.start("release", null);
    await eventually(() => p!.rt.engine.runs.get(a)!.waiting_on?.includes("approval"));
    expect(p.rt.engine.runs.get(a)!.waiting_on).toBe("step manager: approval (Ship v1 to production?) — signal approve or reject");
    p.rt.client.signal(a, "approve", "cto");
    await eventually(() => p!.rt.engine.runs.get(a)!.waiting_on === "signal go (step wait)");
    p.rt.client.signal(a, "go", { when: "now" });
    const done = await p.finish(a);
    expect(done.output).toEqual({ tag: "v1", manager: { approved: true, by: "cto" }, wait: { when: "now" } });

    const b = p.rt.client.start("release", null);
    p.rt.client.signal(b, "reject", "too risky");
    const rejected = await p.finish(b);
    expect(rejected.status).toBe("failed");
    expect(rejected.error!.message).toBe('step manager: rejected ("too risky")');
    const acts = p.rt.engine.runs.history(b).filter((e) => e.type === "ActivityScheduled").map((e) => e.data.input.command);
    expect(acts).toEqual(["echo v1", "echo untag"]);
    await w.stop();
  });

  test("config errors name the step and the problem", async () => {
    const proj = tempProject(`workflows:
  bad:
    steps:
      - name: two
        shell: echo
        sleep: 5
      - name: none
      - name: typo
        shel: echo
  empty:
    steps: []
`);
    const r = await runSecurely(["config:check"], { env: proj.env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("workflows.bad.steps[0]: has shell and sleep; a step does exactly one thing");
    expect(r.stderr).toContain("workflows.bad.steps[1]: needs one of shell, http, job, activity, sleep, wait_for_signal, approval");
    expect(r.stderr).toContain("workflows.bad.steps[2].shel: unknown key — did you mean 'shell'?");
    expect(r.stderr).toContain("workflows.empty.steps: needs at least one step");
  });
});

describe("YAML job steps", () => {
  test("push a queue job (once, even if the step is retried) and record its id", async () => {
    p = await project(
      BASE +
        `queue:
  handlers:
    mail: { type: shell, command: "cat" }
workflows:
  notify:
    steps:
      - name: send
        job: { handler: mail, payload: { to: '\${{ input.to }}' } }
      - name: bad
        job: { handler: nope }
`,
    );
    const id = p.rt.client.start("notify", { to: "ops@example.com" });
    const run = await p.finish(id);
    expect(run.status).toBe("failed");
    expect(run.error!.message).toContain("nope");
    const jobs = p.app.store().db.query("SELECT handler, payload FROM queue_jobs").all() as any[];
    expect(jobs).toEqual([{ handler: "mail", payload: '{"to":"ops@example.com"}' }]);
    const send = p.rt.engine.runs.history(id).find((e) => e.type === "ActivityCompleted")!;
    expect(send.data.result).toEqual({ job_id: expect.any(Number), handler: "mail" });
  });
});

describe("YAML http steps", () => {
  test("POST JSON with templates to a real server; 4xx fails at once, 5xx retries", async () => {
    const seen: Array<{ path: string; body: any; key: string | null }> = [];
    let flaky = 0;
    using server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const path = new URL(req.url).pathname;
        seen.push({ path, body: await req.json().catch(() => null), key: req.headers.get("idempotency-key") });
        if (path === "/flaky" && flaky++ === 0) return new Response("busy", { status: 503 });
        if (path === "/missing") return new Response("no such thing", { status: 404 });
        return Response.json({ ok: true, path });
      },
    });
    const base = `http://127.0.0.1:${server.port}`;
    p = await project(
      BASE +
        `workflows:
  hook:
    steps:
      - name: first
        http: { url: '${base}/orders/\${{ input.id }}', body: { id: '\${{ input.id }}', note: 'order \${{ input.id }}' } }
      - name: second
        http: { url: '${base}/flaky' }
      - name: third
        http: { url: '${base}/missing' }
        retry: { maximum_attempts: 5 }
`,
    );
    const id = p.rt.client.start("hook", { id: 42 });
    const run = await p.finish(id);
    expect(run.status).toBe("failed");
    expect(run.error!.message).toBe(`activity securely.http (step third) failed: POST ${base}/missing answered 404: no such thing`);
    expect(seen.map((s) => s.path)).toEqual(["/orders/42", "/flaky", "/flaky", "/missing"]);
    expect(seen[0]!.body).toEqual({ id: 42, note: "order 42" });
    expect(seen[1]!.body).toEqual({ input: { id: 42 }, steps: { first: { output: { ok: true, path: "/orders/42" } } } });
    expect(seen[1]!.key).toBe(seen[2]!.key!); // same idempotency key on the retry
    expect(seen[1]!.key).toBe(`${id}:1`);
  });
});
