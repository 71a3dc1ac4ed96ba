/**
 * The primary process of `securely serve`: Pingora's `Server::run_forever`. It starts every
 * service in dependency order (listening services with `threads > 1` as worker groups), writes
 * the pid and status files, and then obeys signals:
 *
 *   SIGINT   fast stop: services stop at once
 *   SIGTERM  graceful stop: stop accepting, let in-flight work finish within grace_period_seconds,
 *            then graceful_shutdown_timeout_seconds for the rest, then exit regardless
 *   SIGQUIT  graceful upgrade: hand over to a `serve -u` instance over upgrade_sock, then drain
 *   SIGHUP   reload the config where safe (see reload.ts)
 *
 * A second SIGINT or SIGTERM during a graceful stop makes it fast.
 */
import { readFileSync } from "node:fs";
import type { App } from "../app.ts";
import { errorMessage, SecurelyError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { notifyLauncher } from "./daemon.ts";
import { redirectLogs } from "./error-log.ts";
import { ENV, type ServeFlags } from "./flags.ts";
import { isAlive, removePidIfOwned, runningPid, writePid } from "./pid-file.ts";
import { foreignListeners } from "./port-check.ts";
import { assignPorts } from "./ports.ts";
import { chownForDrop, dropPrivileges } from "./privileges.ts";
import { reloadServices } from "./reload.ts";
import { setRunningServices } from "./running.ts";
import { startAll, stopAll } from "./run-services.ts";
import type { Service } from "./service.ts";
import { removeStatusIfOwned, statusPath, writeStatus, type InstanceState, type InstanceStatus } from "./status-file.ts";
import { awaitOldInstance, handOver, type OldInstance } from "./upgrade.ts";
import { WorkerGroup } from "./worker-group.ts";

const STATUS_REFRESH_MS = 5000;

export class Primary {
  private started: Service[] = [];
  private effective: Service[] = [];
  private listening = new Map<string, string[]>();
  private state: InstanceState = "starting";
  private readonly startedAt = new Date();
  private upgradedFrom?: number;
  /** Set once a new instance took over: the pid and status files are its now. */
  private handedOver = false;
  private stopping?: { graceful: boolean; done: Promise<void> };
  private readonly pidFile: string;
  private readonly statusFile: string;
  private readonly upgradeSock: string;
  private restoreLogs?: () => void;

  constructor(
    private readonly app: App,
    private readonly services: Service[],
    private readonly flags: ServeFlags,
  ) {
    this.pidFile = app.resolvePath(app.config.get<string>("pid_file"));
    this.statusFile = statusPath(this.pidFile);
    this.upgradeSock = app.resolvePath(app.config.get<string>("upgrade_sock"));
  }

  async run(): Promise<number> {
    this.restoreLogs = redirectLogs(this.app);
    // handlers go in before anything starts: a signal during boot is acted on once boot ends
    const stopped = this.untilStopped();
    try {
      await this.boot();
    } catch (err) {
      // whatever started before the failure (e.g. user/group could not be dropped) stops now
      await stopAll(this.started, { graceful: false, timeoutMs: 0 });
      removePidIfOwned(this.pidFile);
      removeStatusIfOwned(this.statusFile);
      notifyLauncher({ type: "failed", reason: errorMessage(err) });
      this.removeHandlers();
      this.restoreLogs?.();
      throw err;
    }
    process.stdout.write(`securely ready (${this.started.map((s) => s.name).join(", ")})\n`);
    notifyLauncher({ type: "ready", pid: process.pid, listening: this.listeningLines() });
    this.booted();
    const code = await stopped;
    this.restoreLogs?.();
    return code;
  }

  private cfg<T>(key: string): T {
    return this.app.config.get<T>(key);
  }

  private async boot(): Promise<void> {
    const app = this.app;
    if (app.env[ENV.daemonChild] === "1" && this.cfg<string | undefined>("working_directory")) {
      process.chdir(app.resolvePath(this.cfg<string>("working_directory")));
    }
    let old: OldInstance | undefined;
    if (this.flags.upgrade) {
      const waitMs = (this.cfg<number>("upgrade_sock_connect_accept_max_retries") + 1) * 1000;
      app.log.info(`upgrade: waiting up to ${waitMs / 1000} s on ${this.upgradeSock} for the running instance (send it SIGQUIT)`);
      old = await awaitOldInstance(this.upgradeSock, waitMs);
      if (old) {
        this.upgradedFrom = old.hello.pid;
        app.log.info(`upgrade: taking over from pid ${old.hello.pid}`);
        for (const [name, addrs] of Object.entries(old.hello.services)) assignPorts(name, addrs);
      } else app.log.warn("upgrade: no running instance connected; starting fresh");
    }
    if (!old) {
      const other = runningPid(this.pidFile);
      if (other) {
        throw new SecurelyError(`securely is already running (pid ${other}, pid file ${this.pidFile})`, {
          hint: `stop it (kill -TERM ${other}) or upgrade it (kill -QUIT ${other}; securely serve -u)`,
        });
      }
    }
    try {
      this.effective = this.services.map((s) => this.wrap(s));
      setRunningServices(this.effective);
      this.started = await startAll(app, this.effective, {
        onStarted: (s, listening) => {
          if (this.abortedBy) throw new SecurelyError(`start interrupted by ${this.abortedBy}`);
          this.listening.set(s.name, listening);
          const own = [process.pid, ...(s instanceof WorkerGroup ? s.pids() : []), ...(old?.hello.pids ?? (old ? [old.hello.pid] : []))];
          const clash = foreignListeners(listening, own);
          if (clash.length > 0) {
            const c = clash[0]!;
            throw new SecurelyError(`${s.name}: ${c.listen} is already in use${c.pid ? ` by pid ${c.pid}` : " by another process"}`, {
              hint: c.pid && isAlive(c.pid) && runningPid(this.pidFile) === c.pid ? `upgrade it instead: kill -QUIT ${c.pid}; securely serve -u` : "stop the other process or change the listen address",
            });
          }
        },
      });
      writePid(this.pidFile);
      this.setState("running");
      // with worker groups the primary keeps its privileges to restart workers on privileged ports
      if (!this.effective.some((s) => s instanceof WorkerGroup)) {
        chownForDrop([this.pidFile, this.statusFile], this.cfg("user"), this.cfg("group"));
        dropPrivileges(this.cfg("user"), this.cfg("group"));
      }
      await old?.ready(process.pid);
    } catch (err) {
      await old?.failed(errorMessage(err));
      throw err;
    }
  }

  private wrap(s: Service): Service {
    const threads = s.kind === "listening" ? (s.threads ?? this.cfg<number>("threads")) : 1;
    if (threads <= 1) return s;
    const g = new WorkerGroup(this.app, s, threads, this.cfg<number>("graceful_shutdown_timeout_seconds") * 1000);
    g.onChange = () => this.state !== "starting" && this.writeStatusFile();
    return g;
  }

  private listeningLines(): string[] {
    return [...this.listening].flatMap(([name, addrs]) => addrs.map((a) => `${name} listening on ${a}`));
  }

  private handlers: Record<string, () => void> = {};
  private pending: string[] = [];
  private booted: () => void = () => {};
  private abortedBy?: string;

  private untilStopped(): Promise<number> {
    return new Promise<number>((resolve) => {
      let refresh: Timer | undefined;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearInterval(refresh);
        this.removeHandlers();
        try {
          removePidIfOwned(this.pidFile);
          if (!this.handedOver) removeStatusIfOwned(this.statusFile);
        } catch (err) {
          this.app.log.warn(`could not remove ${this.pidFile}: ${errorMessage(err)}`);
        }
        setRunningServices([]);
        resolve(0);
      };
      const act: Record<string, () => void> = {
        SIGINT: () => void this.stop(false).then(finish),
        SIGTERM: () => void this.stop(true).then(finish),
        SIGQUIT: () =>
          void this.upgrade().then(async (handedOver) => {
            if (handedOver) await this.stop(true, "upgrade").then(finish);
          }),
        SIGHUP: () => void this.reload(),
      };
      let ready = false;
      for (const sig of Object.keys(act)) {
        this.handlers[sig] = () => {
          if (ready) return act[sig]!();
          this.pending.push(sig);
          // a stop signal during boot aborts the start once the service starting now is up
          if (sig === "SIGINT" || sig === "SIGTERM") this.abortedBy ??= sig;
        };
        process.on(sig, this.handlers[sig]!);
      }
      this.booted = () => {
        ready = true;
        refresh = setInterval(() => this.writeStatusFile(), STATUS_REFRESH_MS);
        for (const sig of this.pending.splice(0)) act[sig]!();
      };
    });
  }

  private removeHandlers(): void {
    for (const [sig, fn] of Object.entries(this.handlers)) process.off(sig, fn);
    this.handlers = {};
  }

  /** Stop every service; a fast stop during a graceful one cuts it short. */
  private stop(graceful: boolean, reason: "shutdown" | "upgrade" = "shutdown"): Promise<void> {
    if (this.stopping) {
      if (!this.stopping.graceful || graceful) return this.stopping.done;
      this.app.log.warn("fast stop requested during the graceful stop");
      const fast = stopAll(this.started, { graceful: false, timeoutMs: 0 });
      this.stopping = { graceful: false, done: Promise.race([this.stopping.done, fast]) };
      return this.stopping.done;
    }
    this.app.log.info(`${graceful ? "graceful" : "fast"} ${reason === "upgrade" ? "stop after upgrade" : "shutdown"}`);
    this.setState(graceful ? "draining" : "stopping");
    const graceMs = graceful ? this.cfg<number>("grace_period_seconds") * 1000 : 0;
    const finalMs = this.cfg<number>("graceful_shutdown_timeout_seconds") * 1000;
    const all = stopAll(this.started, { graceful, timeoutMs: graceMs, reason });
    let timer: Timer | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.app.log.warn(`services did not stop within ${(graceMs + finalMs) / 1000} s; forcing exit`);
        for (const s of this.effective) if (s instanceof WorkerGroup) s.kill();
        resolve();
      }, graceMs + finalMs);
    });
    const done = Promise.race([all, deadline]).finally(() => clearTimeout(timer));
    this.stopping = { graceful, done };
    return done;
  }

  /** SIGQUIT: returns true once a new instance serves (the caller then drains and exits). */
  private async upgrade(): Promise<boolean> {
    if (this.stopping || this.state === "upgrading") return false;
    this.setState("upgrading");
    this.app.log.info(`upgrade: waiting for a new instance (serve -u) on ${this.upgradeSock}`);
    if (tcpMigrateReq() === "0") {
      this.app.log.warn("upgrade: net.ipv4.tcp_migrate_req is 0, so connections still queued on this instance's listeners when it closes them are reset; `sysctl -w net.ipv4.tcp_migrate_req=1` hands them to the new instance");
    }
    const connectMs = this.cfg<number>("upgrade_sock_connect_accept_max_retries") * 1000 + 1000;
    const readyMs = this.cfg<number>("daemon_ready_timeout_seconds") * 1000;
    const pids = [process.pid, ...this.effective.flatMap((s) => (s instanceof WorkerGroup ? s.pids() : []))];
    const hello = { type: "hello" as const, pid: process.pid, services: Object.fromEntries(this.listening), pids };
    const res = await handOver(this.upgradeSock, hello, connectMs, readyMs);
    if (!res.ok) {
      this.app.log.error(`upgrade failed: ${res.reason}; still serving`);
      this.setState("running");
      return false;
    }
    this.app.log.info(`upgrade: pid ${res.pid} is serving; draining this instance`);
    this.handedOver = true;
    return true;
  }

  private async reload(): Promise<void> {
    if (this.stopping) return;
    this.app.log.info("SIGHUP: reloading the config");
    await reloadServices(this.app, this.started);
    // reopen error_log (after logrotate moved it, or when the reload changed it)
    this.restoreLogs?.();
    this.restoreLogs = redirectLogs(this.app);
    this.writeStatusFile();
  }

  private setState(s: InstanceState): void {
    this.state = s;
    this.writeStatusFile();
  }

  snapshot(): InstanceStatus {
    return {
      pid: process.pid,
      version: VERSION,
      state: this.state,
      started_at: this.startedAt.toISOString(),
      updated_at: new Date().toISOString(),
      config: this.app.configPath ?? null,
      ...(this.upgradedFrom ? { upgraded_from: this.upgradedFrom } : {}),
      services: this.effective.map((s) => ({
        name: s.name,
        kind: s.kind,
        threads: s instanceof WorkerGroup ? s.threads : 1,
        listening: this.listening.get(s.name) ?? [],
        status: safeStatus(s),
        ...(s instanceof WorkerGroup ? { workers: s.workers() } : {}),
      })),
    };
  }

  private writeStatusFile(): void {
    if ((this.state === "starting" && this.started.length === 0) || this.handedOver) return;
    try {
      writeStatus(this.statusFile, this.snapshot());
    } catch (err) {
      this.app.log.debug(`status file ${this.statusFile}: ${errorMessage(err)}`);
    }
  }
}

/** Linux ≥ 5.14: whether closing a SO_REUSEPORT listener migrates its queued connections. */
export function tcpMigrateReq(): string | undefined {
  try {
    return readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim();
  } catch {
    return undefined;
  }
}

function safeStatus(s: Service): { ready: boolean; [k: string]: unknown } {
  try {
    return s.status?.() ?? { ready: true };
  } catch (err) {
    return { ready: false, error: errorMessage(err) };
  }
}
