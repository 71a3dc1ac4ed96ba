import { defineCommand } from "../../core/module.ts";
import { openRuntime } from "../runtime.ts";
import { readJsonArg } from "./input.ts";

export const workflowQuery = defineCommand({
  name: "workflow:query",
  description: "Ask a run's code a question (ctx.onQuery): its history is replayed, nothing is written",
  args: {
    id: { type: "positional", description: "Workflow id", required: true },
    query: { type: "positional", description: "Query name", required: true },
    args: { type: "positional", description: "Arguments as JSON, or - for stdin", required: false },
  },
  async run({ app, args }) {
    const input = await readJsonArg(args.args, "ARGS");
    const rt = await openRuntime(app, { loadCode: true });
    const answer = await rt.engine.query(args.id, args.query, input);
    app.print(answer ?? null, (a) => (typeof a === "string" ? a : JSON.stringify(a)));
  },
});
