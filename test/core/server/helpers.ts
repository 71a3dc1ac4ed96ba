/**
 * Helpers for the server tests: run the fixture CLI (securely + fixture module) as a child
 * process, find every process of one test project (by its unique folder in the command line),
 * and pick a free port for tests that need a fixed one (an upgrade keeps its port).
 */
import { afterAll } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { BUN, ROOT, tempProject } from "../../harness.ts";

export const FIXTURE = join(import.meta.dir, "fixtures/securely-fixture.ts");

const started = new Set<Bun.Subprocess>();
const markers = new Set<string>();

/** Kill every process a test here started, even when the test failed halfway. */
function cleanup(): void {
  for (const p of started) if (p.exitCode === null) p.kill("SIGKILL");
  // daemons and workers are not our direct children: find them by their project folder
  for (const m of markers) for (const pid of pidsMatching(m)) process.kill(pid, "SIGKILL");
}
// afterAll in an imported module only covers the first test file that imports it: the exit hook
// covers the rest of the run
afterAll(cleanup);
process.on("exit", cleanup);

/** Have `cleanup` also kill every process whose command line names `dir`. */
export function track(dir: string): void {
  markers.add(dir);
}

/** A temp project with the fixture enabled and metrics on an ephemeral port. */
export function fixtureProject(yaml = "") {
  const p = tempProject(`metrics:\n  listen: 127.0.0.1:0\n${yaml.includes("cache:") ? "" : "cache:\n  prune_interval: 0\n"}${yaml}`);
  markers.add(p.dir);
  return p;
}

/** Pids of live processes whose command line mentions `marker` (the project's folder). */
export function pidsMatching(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
      const state = /\) (\w)/.exec(readFileSync(`/proc/${d}/stat`, "utf8"))?.[1];
      if (cmd.includes(marker) && state !== "Z") out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface Child {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** First port of "NAME listening on ADDR". */
  port(service: string): number;
  exited: Promise<number>;
}

/** Spawn the fixture CLI with `args`; lines are collected from stdout and stderr. */
export function spawnFixture(args: string[], env: Record<string, string> = {}, cwd = ROOT): Child {
  const proc = Bun.spawn([BUN, FIXTURE, ...args], {
    cwd,
    env: { ...process.env, SECURELY_LOG_LEVEL: "info", ...env } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  started.add(proc);
  let text = "";
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const consume = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        text += line + "\n";
        for (const w of [...waiters]) if (w.re.test(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
      }
    }
    if (buf) text += buf;
  };
  const done = Promise.all([consume(proc.stdout), consume(proc.stderr)]);
  const exited = proc.exited.then(async (c) => (await done, c));
  return {
    proc,
    output: () => text,
    exited,
    waitFor: (re, timeoutMs = 20_000) =>
      new Promise<string>((resolve, reject) => {
        const have = text.split("\n").find((l) => re.test(l));
        if (have) return resolve(have);
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${text}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
        exited.then((c) => (clearTimeout(t), reject(new Error(`exited (${c}) before ${re}; output:\n${text}`))));
      }),
    port(service) {
      const m = new RegExp(`^${service.replace(".", "\\.")} listening on (?:\\S+ )?\\S*:(\\d+)$`, "m").exec(text);
      if (!m) throw new Error(`${service} is not listening; output:\n${text}`);
      return Number(m[1]);
    },
  };
}

/** Spawn and wait for "securely ready". */
export async function startFixture(args: string[], env?: Record<string, string>): Promise<Child> {
  const c = spawnFixture(args, env);
  await c.waitFor(/securely ready/);
  return c;
}

/** Run to completion. */
export async function runFixture(args: string[], env?: Record<string, string>, timeoutMs = 30_000, cwd?: string): Promise<{ code: number; out: string }> {
  const c = spawnFixture(args, env, cwd);
  const t = setTimeout(() => c.proc.kill("SIGKILL"), timeoutMs);
  const code = await c.exited;
  clearTimeout(t);
  return { code, out: c.output() };
}

export async function get(port: number, path = "/", init?: RequestInit): Promise<{ status: number; pid: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const body = await r.text();
  return { status: r.status, pid: Number(r.headers.get("x-pid")), body };
}
