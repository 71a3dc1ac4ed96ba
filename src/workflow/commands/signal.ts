import { UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { openRuntime } from "../runtime.ts";
import { readJsonArg } from "./input.ts";

export const workflowSignal = defineCommand({
  name: "workflow:signal",
  description: "Send a signal (with an optional JSON payload) to a running workflow; kept until a worker applies it",
  args: {
    id: { type: "positional", description: "Workflow id", required: true },
    signal: { type: "positional", description: "Signal name", required: true },
    payload: { type: "positional", description: "Payload as JSON, or - for stdin", required: false },
    start: { type: "string", description: "Signal-with-start: start workflow START with id ID first unless a run with that id is running" },
    input: { type: "string", description: "With --start: the input (JSON) of the run it starts" },
  },
  async run({ app, args }) {
    const payload = await readJsonArg(args.payload, "PAYLOAD");
    if (args.input !== undefined && !args.start) throw new UsageError("--input only goes with --start", "see securely workflow:signal --help");
    if (args.start) {
      const input = await readJsonArg(args.input, "--input");
      const rt = await openRuntime(app, { loadCode: true });
      const started = rt.client.signalWithStart(args.id, args.signal, payload, args.start, input);
      app.print({ id: args.id, signal: args.signal, delivered: true, started }, (r) => `${r.started ? `started ${args.start} as ${r.id}; ` : ""}signal ${r.signal} recorded for ${r.id}`);
      return;
    }
    const rt = await openRuntime(app);
    rt.client.signal(args.id, args.signal, payload);
    app.print({ id: args.id, signal: args.signal, delivered: true }, (r) => `signal ${r.signal} recorded for ${r.id}`);
  },
});
