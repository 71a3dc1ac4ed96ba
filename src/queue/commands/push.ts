/** `queue:push HANDLER [PAYLOAD|-]` and `--file jobs.ndjson` (many jobs, one transaction). */
import { defineCommand } from "../../core/module.ts";
import { UsageError } from "../../core/errors.ts";
import { openQueue, validateJob } from "../queue.ts";
import { parseBackoff, parseInteger, parseSeconds } from "../options.ts";
import type { JobSpec } from "../types.ts";
import { readJobFile } from "./job-file.ts";

export const jobFlags = {
  queue: { type: "string", description: "Queue name (default queue.default_queue)" },
  delay: { type: "string", description: "Seconds before the job is available (30, 30s, 5m)" },
  tries: { type: "string", description: "Max attempts (default: the worker's --tries)" },
  backoff: { type: "string", description: "Seconds before retries, per attempt: 1,5,10" },
  timeout: { type: "string", description: "Seconds an attempt may run" },
  "unique-key": { type: "string", description: "Skip the push while a job with this key is pending" },
  "unique-for": { type: "string", description: "Seconds the unique key holds at most" },
  priority: { type: "string", description: "Higher runs first within the queue (integer, default 0)" },
} as const;

/** Flags → job options; shared by push, chain and batch. */
export function optionsFromFlags(args: Record<string, any>): Partial<JobSpec> {
  const o: Partial<JobSpec> = {};
  if (args.queue !== undefined) o.queue = String(args.queue);
  if (args.delay !== undefined) o.delay = parseSeconds(args.delay, "--delay");
  if (args.tries !== undefined) o.tries = parseInteger(args.tries, "--tries", 1);
  if (args.backoff !== undefined) o.backoff = parseBackoff(args.backoff);
  if (args.timeout !== undefined) o.timeout = parseSeconds(args.timeout, "--timeout");
  if (args["unique-key"] !== undefined) o.uniqueKey = String(args["unique-key"]);
  if (args["unique-for"] !== undefined) o.uniqueFor = parseSeconds(args["unique-for"], "--unique-for");
  if (args.priority !== undefined) o.priority = parseInteger(args.priority, "--priority", -1_000_000);
  if (o.uniqueFor !== undefined && o.uniqueKey === undefined) throw new UsageError("--unique-for needs --unique-key");
  return o;
}

export function parsePayload(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where}: not valid JSON (${(err as Error).message})`, "quote the payload, e.g. '{\"to\":\"a@b.c\"}'; nothing was pushed");
  }
}

export function printIds(app: { print: (d: unknown, h?: (d: any) => string) => void }, ids: (number | null)[]): void {
  app.print({ ids, pushed: ids.filter((x) => x !== null).length, skipped: ids.filter((x) => x === null).length }, (d) =>
    d.ids.map((id: number | null) => (id === null ? "skipped (unique key held)" : String(id))).join("\n"),
  );
}

export const pushCommand = defineCommand({
  name: "queue:push",
  description: "Push a job (prints its id); --file pushes many in one transaction",
  args: {
    handler: { type: "positional", required: false, description: "Handler name, or shell:CMD / http:URL / module:PATH" },
    payload: { type: "positional", required: false, description: "JSON payload, or - to read stdin" },
    file: { type: "string", description: "NDJSON file of jobs ({\"handler\":…,\"payload\":…} per line; - = stdin)" },
    ...jobFlags,
  },
  async run({ args, app }) {
    const opts = optionsFromFlags(args);
    let jobs: JobSpec[];
    if (args.file) {
      if (args.handler) throw new UsageError("queue:push: give HANDLER or --file, not both");
      jobs = readJobFile(String(args.file)).map(({ spec, where }) => validateJob(app, { ...opts, ...spec }, where));
      if (!jobs.length) throw new UsageError(`queue:push: ${args.file} holds no jobs`, "write one JSON object per line, e.g. {\"handler\":\"mail\",\"payload\":{}}");
    } else {
      if (!args.handler) throw new UsageError("queue:push: missing argument <HANDLER>", "see securely queue:push --help");
      const raw = args.payload === "-" ? await Bun.stdin.text() : args.payload;
      const payload = raw === undefined ? null : parsePayload(String(raw), args.payload === "-" ? "stdin payload" : "payload");
      jobs = [validateJob(app, { ...opts, handler: String(args.handler), payload }, "job")];
    }
    printIds(app, await openQueue(app).pushMany(jobs));
  },
});
