/**
 * The runtime's background threads that nothing waits on — JSC's compiler threads (JITWorker,
 * JSCWarmUp) and mimalloc's purge thread (mi-scavenger) — run at SCHED_IDLE: they get the CPU when
 * the event loop and its neighbours leave it idle, instead of preempting the loop for 1–3 ms at a
 * time. On a core shared with the upstream (the proxy benchmark), scheduler traces put those
 * preemptions behind a third of the slow requests left after serve-env.ts's change; both together
 * took wrk's p99 at 64 connections from 1.42 to 1.20 ms (docs/benchmarks-proxy.md).
 *
 * Not the GC's marker threads (HeapHelper): a collection waits for them. Threads start lazily and
 * JSC's compiler threads exit when idle and come back with new ids, so the list is read again
 * every RESCAN_MS (a few small /proc reads).
 */
import { readdirSync, readFileSync } from "node:fs";
import { addr, C, type Libc } from "./libc.ts";

export const BACKGROUND_THREADS: ReadonlySet<string> = new Set(["JITWorker", "JSCWarmUp", "mi-scavenger"]);
const RESCAN_MS = 2000;

let started = false;

/** Demote this process's background threads now and as they appear (once per process; not with SECURELY_RUNTIME_DEFAULTS=1). */
export function idleBackgroundThreads(libc: Libc): void {
  if (started || process.env.SECURELY_RUNTIME_DEFAULTS === "1") return;
  started = true;
  const demoted = new Set<string>();
  const param = new Int32Array(1); // struct sched_param { sched_priority = 0 }
  const scan = () => {
    let tids: string[];
    try {
      tids = readdirSync("/proc/self/task");
    } catch {
      return;
    }
    // forget threads that exited (their ids may be reused by threads of another kind)
    for (const t of demoted) if (!tids.includes(t)) demoted.delete(t);
    for (const t of tids) {
      if (demoted.has(t)) continue;
      let name: string;
      try {
        name = readFileSync(`/proc/self/task/${t}/comm`, "latin1").trimEnd();
      } catch {
        continue; // exited meanwhile
      }
      if (BACKGROUND_THREADS.has(name) && libc.sys.sched_setscheduler(Number(t), C.SCHED_IDLE, addr(param)) === 0) demoted.add(t);
    }
  };
  scan();
  setInterval(scan, RESCAN_MS).unref();
}
