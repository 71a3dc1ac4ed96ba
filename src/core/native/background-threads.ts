/**
 * mimalloc's purge thread (mi-scavenger), which hands freed pages back to the kernel and which nothing
 * waits on, runs at SCHED_IDLE: it gets the CPU when the event loop and its neighbours leave it idle,
 * instead of preempting the loop for 2–3 ms at a time (scheduler traces of the proxy benchmark's slow
 * requests, where the loop shares a core with the upstream: docs/benchmarks-proxy.md).
 *
 * Not JSC's compiler threads (JITWorker), though they preempt the loop too (JSCWarmUp, which pre-faults
 * heap blocks, is turned off instead: serve-env.ts): at SCHED_IDLE (or
 * nice 10) from the start, compilation starved on a busy core and the proxy ran 10% slower with twice the
 * p99. Not the GC's marker threads (HeapHelper): a collection waits for them. The thread starts lazily,
 * so the list is read again every RESCAN_MS until each kind has been demoted, then every SETTLED_MS: a
 * scan is a /proc read per thread, 0.16–0.35 ms of the loop (scheduler trace of an idle proxy), which
 * every 2 s landed on a request.
 */
import { readdirSync, readFileSync } from "node:fs";
import { addr, C, type Libc } from "./libc.ts";

export const BACKGROUND_THREADS: ReadonlySet<string> = new Set(["mi-scavenger"]);
const RESCAN_MS = 2000;
const SETTLED_MS = 60_000;

/** When to look again: soon while a kind of background thread has not been found yet. */
export function nextScanMs(demotedNames: Iterable<string>): number {
  const found = new Set(demotedNames);
  for (const name of BACKGROUND_THREADS) if (!found.has(name)) return RESCAN_MS;
  return SETTLED_MS;
}

let started = false;

/** Demote this process's background threads now and as they appear (once per process; not with SECURELY_RUNTIME_DEFAULTS=1). */
export function idleBackgroundThreads(libc: Libc): void {
  if (started || process.env.SECURELY_RUNTIME_DEFAULTS === "1") return;
  started = true;
  const demoted = new Map<string, string>(); // tid → name
  const param = new Int32Array(1); // struct sched_param { sched_priority = 0 }
  const scan = () => {
    let tids: string[];
    try {
      tids = readdirSync("/proc/self/task");
    } catch {
      return;
    }
    // forget threads that exited (their ids may be reused by threads of another kind)
    for (const t of demoted.keys()) if (!tids.includes(t)) demoted.delete(t);
    for (const t of tids) {
      if (demoted.has(t)) continue;
      let name: string;
      try {
        name = readFileSync(`/proc/self/task/${t}/comm`, "latin1").trimEnd();
      } catch {
        continue; // exited meanwhile
      }
      if (BACKGROUND_THREADS.has(name) && libc.sys.sched_setscheduler(Number(t), C.SCHED_IDLE, addr(param)) === 0) demoted.set(t, name);
    }
  };
  const again = (): void => {
    setTimeout(() => {
      scan();
      again();
    }, nextScanMs(demoted.values())).unref();
  };
  scan();
  again();
}
