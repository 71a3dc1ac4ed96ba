/**
 * `threads: N` for one listening service: N worker processes, each a re-exec of this program
 * running only that service, all bound to the same ports with SO_REUSEPORT. The group looks like
 * one Service to the primary. A worker that dies is restarted with exponential backoff (100 ms
 * doubling to 5 s, reset once a worker stays up 10 s); each restart is logged and counted in
 * `securely_worker_restarts_total{service}`.
 *
 * Workers talk to the primary over Bun's IPC channel: they send {ready, listening} or
 * {failed, reason}; the primary sends {stop, graceful, timeoutMs} and {reload}. A worker whose
 * primary disappears (IPC disconnect) stops by itself, so none is ever orphaned.
 */
import type { Subprocess } from "bun";
import type { App } from "../app.ts";
import { SecurelyError } from "../errors.ts";
import { metrics } from "../metrics/registry.ts";
import { ENV } from "./flags.ts";
import { assignPorts, assignedPortsEnv } from "./ports.ts";
import { selfArgs, selfCommand } from "./self-exec.ts";
import type { ReloadResult, Service, ServiceStatus, StartResult, StopOptions } from "./service.ts";
import type { WorkerInfo } from "./status-file.ts";

const restarts = metrics.counter("securely_worker_restarts_total", "Worker processes restarted after they died, by service.");
const running = metrics.gauge("securely_workers", "Worker processes currently ready, by service.");

export const BACKOFF_MIN_MS = 100;
export const BACKOFF_MAX_MS = 5000;
const STABLE_MS = 10_000;
const READY_TIMEOUT_MS = 60_000;

/** Delay before restart number `failures` (1-based) of a worker that keeps dying. */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, failures - 1));
}

export type WorkerMessage =
  | { type: "ready"; listening: string[] }
  | { type: "failed"; reason: string }
  | { type: "stop"; graceful: boolean; timeoutMs: number; reason?: StopOptions["reason"] }
  | { type: "reload" };

interface Slot {
  index: number;
  proc?: Subprocess;
  ready: boolean;
  restarts: number;
  failures: number;
  startedAt?: Date;
  timer?: Timer;
}

export class WorkerGroup implements Service {
  readonly kind = "listening" as const;
  readonly name: string;
  readonly dependsOn?: string[];
  private slots: Slot[];
  private stopping = false;
  private listening: string[] = [];
  /** Called whenever a worker starts, becomes ready or dies (the primary rewrites the status file). */
  onChange: () => void = () => {};

  constructor(
    private readonly app: App,
    readonly inner: Service,
    readonly threads: number,
    private readonly shutdownTimeoutMs: number,
  ) {
    this.name = inner.name;
    this.dependsOn = inner.dependsOn;
    this.slots = Array.from({ length: threads }, (_, index) => ({ index, ready: false, restarts: 0, failures: 0 }));
  }

  /** Start worker 0 alone (it picks the ports for `port: 0` listeners), then the others. */
  async start(): Promise<StartResult> {
    try {
      this.listening = await this.spawn(this.slots[0]!);
      assignPorts(this.name, this.listening);
      await Promise.all(this.slots.slice(1).map((s) => this.spawn(s)));
    } catch (err) {
      await this.stop({ graceful: false, timeoutMs: 0 });
      throw err;
    }
    return { listening: this.listening };
  }

  private spawn(slot: Slot): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | undefined, listening: string[] = []) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        if (err) reject(err);
        else resolve(listening);
      };
      const label = `${this.name}#${slot.index}`;
      const proc = Bun.spawn([...selfCommand(), ...selfArgs()], {
        // the arguments (a relative -c) are relative to where the command was started; the
        // worker moves to the primary's working directory (daemon working_directory) itself
        cwd: this.app.cwd,
        env: {
          [ENV.workerCwd]: process.cwd(),
          ...(this.app.env as Record<string, string>),
          ...assignedPortsEnv(),
          [ENV.worker]: this.name,
          [ENV.workerIndex]: String(slot.index),
          [ENV.daemonChild]: "",
        },
        stdio: ["ignore", "inherit", "inherit"],
        ipc: (msg: WorkerMessage) => {
          if (msg.type === "ready") {
            slot.ready = true;
            running.inc({ service: this.name });
            this.onChange();
            settle(undefined, msg.listening);
          } else if (msg.type === "failed") {
            settle(new SecurelyError(`worker ${label} failed to start: ${msg.reason}`));
          }
        },
      });
      slot.proc = proc;
      slot.ready = false;
      slot.startedAt = new Date();
      this.onChange();
      const timeout = setTimeout(() => {
        proc.kill("SIGKILL");
        settle(new SecurelyError(`worker ${label} not ready after ${READY_TIMEOUT_MS / 1000} s`));
      }, READY_TIMEOUT_MS);
      proc.exited.then((code) => {
        settle(new SecurelyError(`worker ${label} exited (${describeExit(proc, code)}) before it was ready`));
        this.onExit(slot, proc, code);
      });
    });
  }

  private onExit(slot: Slot, proc: Subprocess, code: number): void {
    if (slot.proc !== proc) return;
    if (slot.ready) running.dec({ service: this.name });
    slot.ready = false;
    slot.proc = undefined;
    this.onChange();
    if (this.stopping) return;
    const label = `${this.name}#${slot.index}`;
    const upMs = Date.now() - (slot.startedAt?.getTime() ?? 0);
    slot.failures = upMs >= STABLE_MS ? 1 : slot.failures + 1;
    const delay = backoffMs(slot.failures);
    this.app.log.warn(`worker ${label} (pid ${proc.pid}) exited (${describeExit(proc, code)}); restarting in ${delay} ms`);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.stopping) return;
      slot.restarts++;
      restarts.inc({ service: this.name });
      // a failed restart is handled by onExit of that process: the next backoff step
      this.spawn(slot).catch((err) => this.app.log.warn((err as Error).message));
    }, delay);
  }

  async stop(opts: StopOptions): Promise<void> {
    this.stopping = true;
    for (const s of this.slots) if (s.timer) clearTimeout(s.timer);
    const procs = this.slots.map((s) => s.proc).filter((p): p is Subprocess => p !== undefined && p.exitCode === null && p.signalCode === null);
    for (const p of procs) {
      try {
        p.send({ type: "stop", graceful: opts.graceful, timeoutMs: opts.timeoutMs, reason: opts.reason } satisfies WorkerMessage);
      } catch {
        p.kill(opts.graceful ? "SIGTERM" : "SIGINT");
      }
    }
    const hard = setTimeout(() => this.kill(), opts.timeoutMs + this.shutdownTimeoutMs);
    await Promise.all(procs.map((p) => p.exited));
    clearTimeout(hard);
  }

  /** SIGKILL every worker (the final shutdown deadline passed). */
  kill(): void {
    for (const s of this.slots) if (s.proc && s.proc.exitCode === null) s.proc.kill("SIGKILL");
  }

  async reload(): Promise<ReloadResult> {
    for (const s of this.slots) {
      try {
        s.proc?.send({ type: "reload" } satisfies WorkerMessage);
      } catch {
        // a worker between restarts reads the new config when it starts
      }
    }
    return { applied: [`forwarded to ${this.threads} workers`], needsRestart: [] };
  }

  pids(): number[] {
    return this.slots.map((s) => s.proc?.pid).filter((p): p is number => p !== undefined);
  }

  workers(): WorkerInfo[] {
    return this.slots.map((s) => ({ index: s.index, pid: s.proc?.pid, ready: s.ready, restarts: s.restarts, started_at: s.startedAt?.toISOString() }));
  }

  status(): ServiceStatus {
    const ready = this.slots.filter((s) => s.ready).length;
    return { ready: ready > 0, workers_ready: ready, threads: this.threads, restarts: this.slots.reduce((n, s) => n + s.restarts, 0) };
  }
}

function describeExit(proc: Subprocess, code: number): string {
  return proc.signalCode ? `signal ${proc.signalCode}` : `code ${code}`;
}
