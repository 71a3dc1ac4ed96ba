/**
 * `serve` and `proxy:serve` run with three JavaScriptCore options and one of Bun's that only the
 * environment can set (read once when the VM starts): the process re-executes itself once, same PID, name,
 * arguments and descriptors, with them added. Imported first by main.ts, so the first start does
 * no other work.
 *
 * The options turn off JSC's GC activity timers. Under load the eden timer asked for a collection
 * about every 75 ms (~13 a second, each a ~0.7 ms pause of every connection), whatever the heap's
 * size; without it, collections come when the heap needs one: ~4 a second in the proxy benchmark.
 * Collections still run when memory grows, and Bun's own idle timer still collects an idle
 * process. Measured, 8 interleaved 8 s runs of wrk at 64 connections: p99 median 1.42 → 1.34 ms
 * (nginx 1.32); docs/benchmarks-proxy.md, twelfth session.
 *
 * The third turns off JSC's JSCWarmUp thread, which touches the pages of spare heap blocks ahead of
 * the allocator: it runs through steady load (the heap hands blocks back and takes new ones) and
 * preempts the event loop on its core for 0.2–0.3 ms at a time. Measured, 5 interleaved rounds each:
 * wrk c=64 "nothing repeats" p99 median 1.43 → 1.32 ms (lower 5/5), lockstep c=1 p99 157 → 141 µs
 * (lower 4/5); docs/benchmarks-proxy.md, fourteenth session.
 *
 * The fourth (BUN_GC_TIMER_DISABLE) turns off Bun's own GC timer, which collects while the event
 * loop idles (~10 collections in 20 s of idleness): traffic that comes back after a pause met a
 * slower first seconds. Measured, bench/proxy/run.sh (each proxy idle ~20 s between its rounds), two
 * runs of 5 rounds each way: wrk c=64 p99 medians 1.48 / 1.33 ms (nginx 1.42 / 1.50) → 1.20 / 1.15
 * (nginx 1.52 / 1.45). JSC still collects when the heap grows; an idle process keeps its last garbage
 * (RSS 15 s after load 109 → 123 MB); docs/benchmarks-proxy.md, fifteenth session.
 *
 * Skipped when any option is already set (the operator's values win), with
 * SECURELY_RUNTIME_DEFAULTS=1, off Linux, and in worker threads (execve replaces the process).
 */
import { ptr } from "bun:ffi";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import { loadLibc } from "./libc.ts";

/** 1e-6 rather than 0: the timer's delay is the last pause divided by this, and 0 divides by zero. */
export const SERVE_ENV: Readonly<Record<string, string>> = {
  BUN_JSC_percentCPUPerMBForEdenTimer: "0.000001",
  BUN_JSC_collectionTimerMaxPercentCPU: "0.000001",
  BUN_JSC_useWarmUpMarkedBlocks: "0",
  BUN_GC_TIMER_DISABLE: "1",
};

const SERVING = new Set(["serve", "proxy:serve"]);
/** The global flags that take a value (cli/run.ts splitGlobals; not imported: it loads the whole CLI). */
const VALUE_FLAGS = new Set(["-c", "--conf", "--log-level"]);

/** The command word of a command line whose global flags may come first. */
export function commandOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return undefined;
    if (VALUE_FLAGS.has(a)) i++;
    else if (!a.startsWith("-")) return a;
  }
  return undefined;
}

/** Whether `command` should run with SERVE_ENV and does not yet. */
export function needsServeEnv(command: string | undefined, env: Record<string, string | undefined>): boolean {
  if (!command || !SERVING.has(command) || env.SECURELY_RUNTIME_DEFAULTS === "1") return false;
  return Object.keys(SERVE_ENV).every((k) => env[k] === undefined);
}

/** NUL-separated strings as /proc/self/cmdline and environ hold them (the last one is terminated too). */
function nulList(path: string): string[] {
  const parts = readFileSync(path, "latin1").split("\0");
  parts.pop();
  return parts;
}

/** char *[] for execve: pointers to NUL-terminated copies, then NULL. `keep` holds the copies alive. */
function cArray(list: string[], keep: ArrayBufferView[]): ReturnType<typeof ptr> {
  const table = new BigUint64Array(list.length + 1);
  list.forEach((s, i) => {
    const b = Buffer.from(`${s}\0`, "latin1");
    keep.push(b);
    table[i] = BigInt(ptr(b));
  });
  keep.push(table);
  return ptr(table);
}

/**
 * Re-execute with SERVE_ENV when the command needs it; returns only when it did not (not needed,
 * or execve failed: the command then runs with the runtime's defaults).
 */
export function reexecWithServeEnv(): void {
  if (!isMainThread || !needsServeEnv(commandOf(process.argv.slice(2)), process.env)) return;
  const libc = loadLibc();
  if (!libc) return;
  let argv: string[];
  let env: string[];
  let file: string;
  try {
    // the arguments and environment as the process started: process.env also holds what Bun read from .env files
    argv = nulList("/proc/self/cmdline");
    env = nulList("/proc/self/environ");
    // the path it was started by (a symlink's name stays the process name in ps), else the file itself
    file = argv[0]?.includes("/") && existsSync(argv[0]) ? argv[0] : readlinkSync("/proc/self/exe");
  } catch {
    return;
  }
  for (const [k, v] of Object.entries(SERVE_ENV)) env.push(`${k}=${v}`);
  const keep: ArrayBufferView[] = [];
  const path = Buffer.from(`${file}\0`);
  libc.sys.execve(ptr(path), cArray(argv, keep), cArray(env, keep));
}

// at import, before main.ts's other imports load anything
reexecWithServeEnv();
