/**
 * `securely status [--json]`: is an instance running for this config, since when, and how are
 * its services and workers. Reads the pid file and the status file the primary keeps beside it.
 * Exit 0 when running, 3 when not (the LSB status convention systemd and init scripts use).
 */
import type { App } from "../../app.ts";
import { table } from "../../cli/output.ts";
import { defineCommand } from "../../module.ts";
import { isAlive, readPid } from "../pid-file.ts";
import { readStatus, statusPath, type InstanceStatus } from "../status-file.ts";

export const NOT_RUNNING_EXIT = 3;

export interface StatusReport {
  running: boolean;
  pid: number | null;
  pid_file: string;
  uptime_seconds?: number;
  stale_pid_file?: boolean;
  instance?: InstanceStatus;
}

export function statusReport(app: App, now = Date.now()): StatusReport {
  const pidFile = app.resolvePath(app.config.get<string>("pid_file"));
  const pid = readPid(pidFile);
  if (pid === undefined) return { running: false, pid: null, pid_file: pidFile };
  if (!isAlive(pid)) return { running: false, pid, pid_file: pidFile, stale_pid_file: true };
  const instance = readStatus(statusPath(pidFile));
  const fresh = instance?.pid === pid ? instance : undefined;
  const uptime = fresh ? Math.max(0, Math.round((now - Date.parse(fresh.started_at)) / 1000)) : undefined;
  return { running: true, pid, pid_file: pidFile, ...(uptime !== undefined ? { uptime_seconds: uptime } : {}), ...(fresh ? { instance: fresh } : {}) };
}

export function formatDuration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, `${s % 60}s`].filter(Boolean);
  return parts.slice(0, 3).join(" ");
}

function render(r: StatusReport): string {
  if (!r.running) return r.stale_pid_file ? `securely is not running (stale pid file ${r.pid_file} names pid ${r.pid})` : `securely is not running (no pid file at ${r.pid_file})`;
  const i = r.instance;
  if (!i) return `securely is running (pid ${r.pid}); no status file yet`;
  const head = `securely ${i.version} ${i.state} (pid ${i.pid}, up ${formatDuration(r.uptime_seconds ?? 0)}${i.upgraded_from ? `, upgraded from pid ${i.upgraded_from}` : ""})\nconfig ${i.config ?? "(defaults)"}`;
  const rows = i.services.map((s) => ({
    service: s.name,
    kind: s.kind,
    ready: s.status.ready ? "yes" : "no",
    listening: s.listening.join(" ") || "-",
    workers: s.workers ? `${s.workers.filter((w) => w.ready).length}/${s.threads} (pids ${s.workers.map((w) => w.pid ?? "-").join(",")}; restarts ${s.workers.reduce((n, w) => n + w.restarts, 0)})` : "-",
  }));
  return `${head}\n\n${table(rows)}`;
}

export const statusCommand = defineCommand({
  name: "status",
  description: "Show the running instance: pid, uptime, services, their readiness and workers (exit 3 when not running)",
  run({ app }) {
    const r = statusReport(app);
    app.print(r, render);
    return r.running ? 0 : NOT_RUNNING_EXIT;
  },
});
