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
  },
  async run({ app, args }) {
    const payload = await readJsonArg(args.payload, "PAYLOAD");
    const rt = await openRuntime(app);
    rt.client.signal(args.id, args.signal, payload);
    app.print({ id: args.id, signal: args.signal, delivered: true }, (r) => `signal ${r.signal} recorded for ${r.id}`);
  },
});
