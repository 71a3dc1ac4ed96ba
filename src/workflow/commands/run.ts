import { defineCommand } from "../../core/module.ts";
import { createWorker, openRuntime, workerOptions } from "../runtime.ts";
import type { RunState } from "../history/runs.ts";
import { positiveInt, readJsonArg } from "./input.ts";

export const workflowRun = defineCommand({
  name: "workflow:run",
  description: "Start a workflow run (INPUT is JSON, - reads stdin); prints its id",
  args: {
    name: { type: "positional", description: "Workflow name (workflows.NAME or a defineWorkflow export)", required: true },
    input: { type: "positional", description: "Input as JSON, or - for stdin", required: false },
    id: { type: "string", description: "Workflow id (unique; default a random UUID)" },
    reuse: { type: "boolean", description: "Reuse the id of a finished run (its history is replaced)" },
    wait: { type: "boolean", description: "Wait until the run ends; print its output; exit 1 unless it completed" },
    work: { type: "boolean", description: "With --wait: run a worker in this process until the run ends" },
    timeout: { type: "string", description: "With --wait: give up waiting after this many seconds (the run continues)" },
  },
  async run({ app, args }) {
    const input = await readJsonArg(args.input, "INPUT");
    const rt = await openRuntime(app, { loadCode: true });
    const id = rt.client.start(args.name, input, { id: args.id, reuse: args.reuse });
    if (!args.wait && !args.work) {
      app.print({ id, name: args.name, status: "running" }, (r) => r.id);
      return 0;
    }
    const timeoutMs = (positiveInt(args.timeout, "--timeout") ?? Infinity) * 1000;
    const worker = args.work ? createWorker(rt, workerOptions(app)) : undefined;
    const working = worker?.run();
    const started = Date.now();
    let run: RunState;
    for (;;) {
      run = rt.engine.runs.get(id)!;
      if (run.status !== "running" || Date.now() - started > timeoutMs) break;
      await Bun.sleep(25);
    }
    if (worker) {
      worker.stop(true);
      await working;
    }
    app.print({ id, name: run.name, status: run.status, output: run.output, error: run.error?.message ?? null }, (r) =>
      r.status === "completed" ? JSON.stringify(r.output) : `${r.id} ${r.status}${r.error ? `: ${r.error}` : ""}`,
    );
    return run.status === "completed" ? 0 : 1;
  },
});
