/**
 * What `securely status` shows, written by the primary as JSON beside the pid file
 * (`/tmp/securely.pid` → `/tmp/securely.status.json`) whenever something changes and every few
 * seconds. A file, not a socket, so status works with metrics disabled and as another user.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ServiceStatus } from "./service.ts";

export type InstanceState = "starting" | "running" | "upgrading" | "draining" | "stopping";

export interface WorkerInfo {
  index: number;
  pid: number | undefined;
  ready: boolean;
  restarts: number;
  started_at: string | undefined;
}

export interface ServiceInfo {
  name: string;
  kind: "listening" | "background";
  threads: number;
  listening: string[];
  status: ServiceStatus;
  workers?: WorkerInfo[];
}

export interface InstanceStatus {
  pid: number;
  version: string;
  state: InstanceState;
  started_at: string;
  updated_at: string;
  config: string | null;
  upgraded_from?: number;
  services: ServiceInfo[];
}

export function statusPath(pidFile: string): string {
  return pidFile.replace(/\.pid$/, "") + ".status.json";
}

export function writeStatus(path: string, status: InstanceStatus): void {
  mkdirSync(dirname(path), { recursive: true });
  const text = JSON.stringify(status, null, 2) + "\n";
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch {
    // after dropping privileges the folder may not be ours, the (chowned) file still is
    rmSync(tmp, { force: true });
    writeFileSync(path, text);
  }
}

export function readStatus(path: string): InstanceStatus | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as InstanceStatus;
  } catch {
    return undefined;
  }
}

/** Remove the file if this process wrote it (after an upgrade the new instance owns it). */
export function removeStatusIfOwned(path: string, pid = process.pid): void {
  if (existsSync(path) && readStatus(path)?.pid === pid) rmSync(path, { force: true });
}
