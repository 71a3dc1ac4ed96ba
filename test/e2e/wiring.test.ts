/**
 * The wiring src/main.ts does between namespaces, through the real CLI: the scheduler pushes real
 * queue jobs and starts real workflows; a queue handler module gets settings and cache in ctx and
 * imports the binary's own SDK as "securely".
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../harness.ts";

describe("cross-namespace wiring", () => {
  test("schedule `job:` entry pushes a real queue job", async () => {
    const p = tempProject(`queue:\n  handlers:\n    send-report: "shell:true"\nschedule:\n  - name: report\n    job: send-report\n    payload: { to: ops }\n    queue: mail\n    hourly: true\n`);
    const t = await runSecurely(["schedule:test", "report"], { env: p.env });
    expect(t.stderr).toBe("");
    expect(t.code).toBe(0);
    const list = JSON.parse((await runSecurely(["queue:list", "--queue", "mail", "--json"], { env: p.env })).stdout);
    const jobs = Array.isArray(list) ? list : list.jobs;
    expect(jobs).toHaveLength(1);
    expect(jobs[0].handler).toBe("send-report");
    expect(JSON.stringify(jobs[0].payload)).toContain("ops");
  });

  test("schedule `workflow:` entry starts a real workflow run", async () => {
    const p = tempProject();
    writeFileSync(join(p.dir, "wf.ts"), `import { defineWorkflow, defineActivity } from "securely";\nexport const greet = defineActivity(async (n: string) => "hi " + n);\nexport const hello = defineWorkflow(async (ctx, input: { name: string }) => ctx.activity("greet", input.name));\n`);
    writeFileSync(p.config, (await Bun.file(p.config).text()) + `workflow:\n  files: [./wf.ts]\nschedule:\n  - name: hi\n    workflow: hello\n    payload: { name: ana }\n    daily: true\n`);
    const t = await runSecurely(["schedule:test", "hi"], { env: p.env });
    expect(t.stderr).toBe("");
    expect(t.code).toBe(0);
    const runs = JSON.parse((await runSecurely(["workflow:list", "--json"], { env: p.env })).stdout);
    const list = Array.isArray(runs) ? runs : runs.runs;
    expect(list).toHaveLength(1);
    expect(list[0].workflow ?? list[0].name).toBe("hello");
  });

  test("a queue handler module imports 'securely' and reads settings and cache from ctx", async () => {
    const p = tempProject();
    writeFileSync(
      join(p.dir, "job.ts"),
      `import { defineJob } from "securely";\nimport { appendFileSync } from "node:fs";\nexport default defineJob({ async handle(payload: any, ctx: any) {\n  await ctx.cache.put("seen", payload.n, 60);\n  appendFileSync(${JSON.stringify(join(p.dir, "out.txt"))}, String(ctx.settings.get("greeting")) + ":" + String(await ctx.cache.get("seen")));\n} });\n`,
    );
    writeFileSync(p.config, (await Bun.file(p.config).text()) + `queue:\n  handlers:\n    note:\n      type: module\n      path: ./job.ts\n`);
    expect((await runSecurely(["settings:set", "greeting=hello"], { env: p.env })).code).toBe(0);
    const push = await runSecurely(["queue:push", "note", '{"n": 7}'], { env: p.env });
    expect(push.stderr).toBe("");
    const work = await runSecurely(["queue:work", "--stop-when-empty"], { env: p.env });
    expect(work.code).toBe(0);
    expect(await Bun.file(join(p.dir, "out.txt")).text()).toBe("hello:7");
  });
});
