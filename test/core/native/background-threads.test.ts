/** background-threads.ts: a serving proxy runs mimalloc's purge thread at SCHED_IDLE, and only that one. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { BACKGROUND_THREADS, nextScanMs } from "../../../src/core/native/background-threads.ts";
import { C } from "../../../src/core/native/libc.ts";
import { startSecurely, tempProject } from "../../harness.ts";

const config = `metrics: { enabled: false }
proxy:
  listen: ["127.0.0.1:0"]
  routes:
    - respond: { status: 200, body: ok }
`;

/** Each thread of `pid`: its name and scheduling policy (field 41 of /proc/…/stat, counted after the name). */
function threads(pid: number): { tid: number; name: string; policy: number }[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((t) => {
    try {
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, "latin1").trimEnd();
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return [{ tid: Number(t), name, policy: Number(fields[41 - 3]) }];
    } catch {
      return []; // exited meanwhile
    }
  });
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(100)) if (check()) return true;
  return check();
}

test("the /proc scan repeats every 2 s until each kind of background thread is demoted, then once a minute", () => {
  expect(nextScanMs([])).toBe(2000);
  expect(nextScanMs(["JITWorker"])).toBe(2000);
  expect(nextScanMs([...BACKGROUND_THREADS])).toBe(60_000);
  expect(nextScanMs([...BACKGROUND_THREADS, ...BACKGROUND_THREADS])).toBe(60_000);
});

describe.if(process.platform === "linux")("proxy:serve on the native loop", () => {
  test("the allocator's purge thread runs at SCHED_IDLE; the loop, the compilers, the GC's markers and Bun's pool do not", async () => {
    const p = tempProject(config);
    const s = await startSecurely(["proxy:serve"], { env: p.env });
    const pid = s.proc.pid;
    const port = s.port("proxy");
    for (let i = 0; i < 200; i++) expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    const background = () => threads(pid).filter((t) => BACKGROUND_THREADS.has(t.name));
    // threads appear lazily and are found on the next rescan (every 2 s)
    expect(await until(() => background().length > 0 && background().every((t) => t.policy === C.SCHED_IDLE), 6000)).toBe(true);
    const others = threads(pid).filter((t) => !BACKGROUND_THREADS.has(t.name));
    expect(others.find((t) => t.tid === pid)?.policy).toBe(0); // SCHED_OTHER
    for (const t of others) expect({ name: t.name, policy: t.policy }).toEqual({ name: t.name, policy: 0 });
    expect(await s.stop()).toBe(0);
  });

  test("SECURELY_RUNTIME_DEFAULTS=1 leaves every thread as the runtime made it", async () => {
    const p = tempProject(config);
    const s = await startSecurely(["proxy:serve"], { env: { ...p.env, SECURELY_RUNTIME_DEFAULTS: "1" } });
    await fetch(`http://127.0.0.1:${s.port("proxy")}/`);
    await Bun.sleep(2500);
    for (const t of threads(s.proc.pid)) expect({ name: t.name, policy: t.policy }).toEqual({ name: t.name, policy: 0 });
    expect(await s.stop()).toBe(0);
  });
});
