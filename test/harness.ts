/**
 * Test helpers: temp folders and stores, a frozen clock, and runners for the securely CLI as a
 * real child process — `bun src/main.ts` by default, `dist/securely` when SECURELY_BIN is set or
 * `useBinary` is asked for. Every spawned process is tracked and killed at the end of the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Store } from "../src/core/store/store.ts";
import type { Migration } from "../src/core/store/migrations.ts";
export { FrozenClock } from "../src/core/clock.ts";

export const ROOT = resolve(import.meta.dir, "..");
export const MAIN = join(ROOT, "src/main.ts");
export const BINARY = join(ROOT, "dist/securely");
/** The bun that runs this test: the pinned devDependency, never a global one. */
export const BUN = process.execPath;

const dirs: string[] = [];
const children = new Set<Bun.Subprocess>();

// bun runs every test file in one process and evaluates this module once, so an afterAll here
// would belong to the first file only: clean up when the test process exits instead
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = "securely-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function tempStore(migrations: Migration[] = []): Store {
  return new Store({ path: join(tempDir(), "store.db"), migrations });
}

/** A folder holding securely.config.yaml (with a private store and metrics on port 0). */
export function tempProject(yaml = ""): { dir: string; config: string; env: Record<string, string> } {
  const dir = tempDir();
  const config = join(dir, "securely.config.yaml");
  // metrics on an ephemeral port: serve refuses a port another test's instance holds
  const metrics = yaml.includes("metrics:") ? "" : "metrics:\n  listen: 127.0.0.1:0\n";
  const base = `pid_file: ${join(dir, "securely.pid")}\nupgrade_sock: ${join(dir, "upgrade.sock")}\nstore:\n  path: ${join(dir, "store.db")}\n${metrics}`;
  writeFileSync(config, yaml.includes("store:") ? yaml : base + yaml);
  return { dir, config, env: { SECURELY_CONF: config } };
}

function command(args: string[], useBinary?: boolean, env?: Record<string, string | undefined>): string[] {
  const bin = env?.SECURELY_BIN || process.env.SECURELY_BIN || (useBinary ? BINARY : undefined);
  return bin ? [bin, ...args] : [BUN, MAIN, ...args];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string;
  useBinary?: boolean;
  timeoutMs?: number;
}

/** Run `securely ARGS` to completion. */
export async function runSecurely(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const proc = Bun.spawn(command(args, opts.useBinary, opts.env), {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, SECURELY_LOG_LEVEL: "warn", ...opts.env } as Record<string, string>,
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  children.add(proc);
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  children.delete(proc);
  return { code, stdout, stderr };
}

export interface Running {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** "NAME listening on ADDR" lines seen so far, by service name. */
  listening: Map<string, string[]>;
  /** Everything printed so far. */
  output(): string;
  /** First port a service listens on (e.g. port("metrics")). */
  port(service: string): number;
  /** Resolves when a line matching `re` appears on stdout or stderr. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM (or `sig`) and wait for exit; SIGKILL after timeoutMs. */
  stop(sig?: NodeJS.Signals, timeoutMs?: number): Promise<number>;
}

/** Start a long-running command and wait until it prints "securely ready" (or `readyLine`). */
export async function startSecurely(args: string[], opts: RunOptions & { readyLine?: RegExp } = {}): Promise<Running> {
  const proc = Bun.spawn(command(args, opts.useBinary, opts.env), {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, SECURELY_LOG_LEVEL: "info", ...opts.env } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  children.add(proc);
  let text = "";
  const listening = new Map<string, string[]>();
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const consume = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        text += line + "\n";
        const m = /^(\S+) listening on (?:\S+ )?(\S+)$/.exec(line);
        if (m) listening.set(m[1]!, [...(listening.get(m[1]!) ?? []), m[2]!]);
        for (const w of [...waiters]) if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  void consume(proc.stdout);
  void consume(proc.stderr);
  const waitFor = (re: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolveLine, reject) => {
      const existing = text.split("\n").find((l) => re.test(l));
      if (existing) return resolveLine(existing);
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in output:\n${text}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => (clearTimeout(t), resolveLine(l)) });
      proc.exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`process exited (${code}) before ${re}; output:\n${text}`));
      });
    });
  const running: Running = {
    proc,
    listening,
    output: () => text,
    port(service) {
      const addr = listening.get(service)?.[0];
      if (!addr) throw new Error(`${service} is not listening; output:\n${text}`);
      return Number(addr.slice(addr.lastIndexOf(":") + 1));
    },
    waitFor,
    signal: (sig) => proc.kill(sig),
    async stop(sig = "SIGTERM", timeoutMs = 10_000) {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(sig);
      const t = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const code = await proc.exited;
      clearTimeout(t);
      children.delete(proc);
      return code;
    },
  };
  await waitFor(opts.readyLine ?? /securely ready/);
  return running;
}

/** Poll `fn` until it returns truthy (bounded). */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 5000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await Bun.sleep(stepMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${last}` : ""}`);
}
