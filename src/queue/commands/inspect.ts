/** `queue:list`, `queue:stats`, `queue:monitor`: what is waiting, running, failed, and how fast. */
import { table } from "../../core/cli/output.ts";
import { SecurelyError, UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { driverFor } from "../drivers/index.ts";
import { parseInteger } from "../options.ts";
import type { JobStatus } from "../types.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const listCommand = defineCommand({
  name: "queue:list",
  description: "List pending jobs (waiting, delayed, reserved)",
  args: {
    queue: { type: "string", description: "Only this queue" },
    status: { type: "string", description: "waiting, delayed or reserved" },
    limit: { type: "string", description: "At most this many rows (default 100)" },
  },
  async run({ args, app }) {
    const status = args.status as JobStatus | undefined;
    if (status && !["waiting", "delayed", "reserved"].includes(status)) throw new UsageError(`--status: expected waiting, delayed or reserved, got '${status}'`);
    const limit = args.limit !== undefined ? parseInteger(args.limit, "--limit", 1) : 100;
    const rows = await driverFor(app).list({ queue: args.queue, status, limit }, app.clock.now());
    const data = rows.map((r) => ({ ...r, available_at: iso(r.available_at), reserved_until: iso(r.reserved_until), created_at: iso(r.created_at) }));
    app.print(data, (d) => table(d.map((r: any) => ({ id: r.id, queue: r.queue, handler: r.handler, status: r.status, attempts: r.attempts, available_at: r.available_at, payload: r.payload.length > 60 ? r.payload.slice(0, 57) + "..." : r.payload }))));
  },
});

async function stats(app: import("../../core/app.ts").App) {
  return driverFor(app).stats(app.clock.now());
}

export const statsCommand = defineCommand({
  name: "queue:stats",
  description: "Sizes per queue, throughput over the last minute, oldest waiting age",
  async run({ app }) {
    app.print(await stats(app), (d) => table(d));
  },
});

export const monitorCommand = defineCommand({
  name: "queue:monitor",
  description: "Print queue sizes; exit 1 when a queue holds more than --max waiting jobs",
  args: {
    queues: { type: "positional", required: false, description: "Comma list of queues (default: all)" },
    max: { type: "string", description: "Threshold of waiting jobs (default 1000)" },
  },
  async run({ args, app }) {
    const max = args.max !== undefined ? parseInteger(args.max, "--max") : 1000;
    const names = args.queues ? String(args.queues).split(",") : undefined;
    const all = await stats(app);
    const rows = (names ? names.map((q) => all.find((s) => s.queue === q) ?? { queue: q, waiting: 0, delayed: 0, reserved: 0, failed: 0, paused: false, processed_last_minute: 0, oldest_waiting_s: null }) : all).map(
      (s) => ({ ...s, status: s.waiting > max ? "ALERT" : "OK" }),
    );
    app.print(rows, (d) => table(d, ["queue", "waiting", "reserved", "delayed", "failed", "oldest_waiting_s", "status"]));
    return rows.some((r) => r.status === "ALERT") ? 1 : 0;
  },
});

export const showCommand = defineCommand({
  name: "queue:show",
  description: "Show one job by id: pending, finished (with its output, kept a day) or failed",
  args: { id: { type: "positional", description: "Job id (as printed by queue:push)" } },
  async run({ args, app }) {
    const id = parseInteger(args.id, "ID", 1);
    const job = await driverFor(app).findJob(id, app.clock.now());
    if (!job) throw new SecurelyError(`no job with id ${id}`, { hint: "finished jobs without output are not kept; see securely queue:list and queue:failed" });
    app.print({ ...job, finished_at: iso(job.finished_at) }, (d) =>
      [`job ${d.id}: ${d.status} (${d.queue}, ${d.handler}, attempts ${d.attempts}${d.finished_at ? `, finished ${d.finished_at}` : ""})`, `payload: ${d.payload}`, d.exception ? `exception: ${d.exception}` : "", d.output ? `output:\n${d.output}` : ""].filter(Boolean).join("\n"),
    );
  },
});
