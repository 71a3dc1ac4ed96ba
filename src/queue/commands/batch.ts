/** Chains and batches from the CLI: `queue:chain`, `queue:batch`, `queue:batch:show`, `queue:batch:cancel`. */
import { SecurelyError, UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { openQueue, validateJob } from "../queue.ts";
import type { JobSpec } from "../types.ts";
import { readJobFile } from "./job-file.ts";
import { optionsFromFlags, jobFlags, parsePayload } from "./push.ts";

/** "--then HANDLER" with an optional JSON payload given as HANDLER=JSON? Keep it simple: a handler name. */
function callback(app: any, handler: unknown, where: string): JobSpec | undefined {
  if (handler === undefined) return undefined;
  const s = String(handler);
  const eq = s.indexOf("=");
  const spec = eq > 0 && /^[A-Za-z0-9_.-]+$/.test(s.slice(0, eq)) ? { handler: s.slice(0, eq), payload: parsePayload(s.slice(eq + 1), where) } : { handler: s };
  return validateJob(app, spec, where);
}

export const chainCommand = defineCommand({
  name: "queue:chain",
  description: "Push jobs that run one after another (NDJSON file); a failure stops the chain and pushes --catch",
  args: {
    file: { type: "string", description: "NDJSON file of jobs, in order (- = stdin)" },
    catch: { type: "string", description: "Handler pushed when a link fails for good (NAME or NAME=JSON)" },
    ...jobFlags,
  },
  async run({ args, app }) {
    if (!args.file) throw new UsageError("queue:chain: --file is required");
    const opts = optionsFromFlags(args);
    const jobs = readJobFile(String(args.file)).map(({ spec, where }) => validateJob(app, { ...opts, ...spec }, where));
    if (!jobs.length) throw new UsageError(`queue:chain: ${args.file} holds no jobs`);
    const id = await openQueue(app).chain(jobs, { catch: callback(app, args.catch, "--catch") });
    app.print({ id, links: jobs.length }, () => `${id} (chain of ${jobs.length})`);
  },
});

export const batchCommand = defineCommand({
  name: "queue:batch",
  description: "Push a batch (NDJSON file) with --then/--catch/--finally jobs; prints the batch id",
  args: {
    file: { type: "string", description: "NDJSON file of jobs (- = stdin)" },
    name: { type: "string", description: "Batch name" },
    then: { type: "string", description: "Handler pushed when every job succeeded (NAME or NAME=JSON)" },
    catch: { type: "string", description: "Handler pushed on the first failure" },
    finally: { type: "string", description: "Handler pushed when every job has run" },
    "allow-failures": { type: "boolean", description: "Keep running the batch after a failure" },
    ...jobFlags,
  },
  async run({ args, app }) {
    if (!args.file) throw new UsageError("queue:batch: --file is required");
    const opts = optionsFromFlags(args);
    const jobs = readJobFile(String(args.file)).map(({ spec, where }) => ({ ...opts, ...spec }));
    const res = await openQueue(app).batch({
      name: args.name, jobs, allowFailures: Boolean(args["allow-failures"]),
      then: callback(app, args.then, "--then"), catch: callback(app, args.catch, "--catch"), finally: callback(app, args.finally, "--finally"),
    });
    app.print(res, (d) => `${d.id} (${d.jobIds.length} jobs)`);
  },
});

export const batchShowCommand = defineCommand({
  name: "queue:batch:show",
  description: "Show a batch's progress",
  args: { id: { type: "positional", description: "Batch id" } },
  async run({ args, app }) {
    const b = await openQueue(app).findBatch(String(args.id));
    if (!b) throw new SecurelyError(`no batch with id ${args.id}`);
    const progress = b.total ? Math.round(((b.total - b.pending) / b.total) * 100) : 100;
    app.print({ ...b, progress }, undefined);
  },
});

export const batchCancelCommand = defineCommand({
  name: "queue:batch:cancel",
  description: "Cancel a batch: its pending jobs are skipped",
  args: { id: { type: "positional", description: "Batch id" } },
  async run({ args, app }) {
    const ok = await openQueue(app).cancelBatch(String(args.id));
    if (!ok && !(await openQueue(app).findBatch(String(args.id)))) throw new SecurelyError(`no batch with id ${args.id}`);
    app.print({ id: args.id, cancelled: true }, () => `cancelled batch ${args.id}`);
  },
});
