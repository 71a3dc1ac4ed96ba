/**
 * `queue:work`: Laravel's worker. SIGTERM/SIGINT/SIGQUIT finish the running jobs then exit;
 * SIGUSR2 pauses, SIGCONT resumes; `queue:restart` makes it exit after its current jobs.
 */
import { defineCommand } from "../../core/module.ts";
import { parseBackoff, parseInteger, parseSeconds } from "../options.ts";
import { createWorker, type WorkerOptions } from "../worker.ts";

export const workCommand = defineCommand({
  name: "queue:work",
  description: "Process jobs until stopped (Laravel's queue:work options and signals)",
  args: {
    queue: { type: "string", description: "Queues in strict priority order: high,default" },
    concurrency: { type: "string", description: "Jobs run at the same time (default queue.worker.concurrency)" },
    sleep: { type: "string", description: "Longest idle wait in seconds (new jobs wake the worker at once)" },
    tries: { type: "string", description: "Max attempts when the job sets none" },
    backoff: { type: "string", description: "Seconds before retries: 1,5,10" },
    timeout: { type: "string", description: "Seconds an attempt may run (0 = none)" },
    "max-jobs": { type: "string", description: "Exit after this many jobs" },
    "max-time": { type: "string", description: "Exit after this many seconds" },
    memory: { type: "string", description: "Exit when RSS exceeds this many MB" },
    "stop-when-empty": { type: "boolean", description: "Exit once the queues are empty" },
    once: { type: "boolean", description: "Process one job and exit" },
    rest: { type: "string", description: "Seconds to rest after each job" },
  },
  async run({ args, app }) {
    const o: WorkerOptions = {};
    if (args.queue !== undefined) o.queues = String(args.queue).split(",").map((q) => q.trim()).filter(Boolean);
    if (args.concurrency !== undefined) o.concurrency = parseInteger(args.concurrency, "--concurrency", 1);
    if (args.sleep !== undefined) o.sleep = parseSeconds(args.sleep, "--sleep");
    if (args.tries !== undefined) o.tries = parseInteger(args.tries, "--tries", 1);
    if (args.backoff !== undefined) o.backoff = parseBackoff(args.backoff);
    if (args.timeout !== undefined) o.timeout = parseSeconds(args.timeout, "--timeout");
    if (args["max-jobs"] !== undefined) o.maxJobs = parseInteger(args["max-jobs"], "--max-jobs");
    if (args["max-time"] !== undefined) o.maxTime = parseSeconds(args["max-time"], "--max-time");
    o.memory = args.memory !== undefined ? parseInteger(args.memory, "--memory") : (app.config.get<number>("queue.worker.memory") ?? 0);
    if (args.rest !== undefined) o.rest = parseSeconds(args.rest, "--rest");
    o.stopWhenEmpty = Boolean(args["stop-when-empty"]);
    o.once = Boolean(args.once);
    app.store();
    const worker = createWorker(app, o);
    const onStop = (sig: NodeJS.Signals) => {
      app.log.info(`${sig}: finishing running jobs, then exiting`);
      void worker.stop({ graceful: true, timeoutMs: (app.config.get<number>("grace_period_seconds") ?? 60) * 1000 });
    };
    const onPause = () => (app.log.info("SIGUSR2: paused"), worker.pause());
    const onResume = () => (app.log.info("SIGCONT: resumed"), worker.resume());
    process.on("SIGTERM", onStop).on("SIGINT", onStop).on("SIGQUIT", onStop).on("SIGUSR2", onPause).on("SIGCONT", onResume);
    await worker.start();
    process.stdout.write(`securely ready (queue)\n`);
    const reason = await worker.done;
    process.off("SIGTERM", onStop).off("SIGINT", onStop).off("SIGQUIT", onStop).off("SIGUSR2", onPause).off("SIGCONT", onResume);
    const s = worker.status();
    app.log.info(`queue worker exiting (${reason}) after ${s.processed} jobs (${s.failed} failed)`);
    return 0;
  },
});
