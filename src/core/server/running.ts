/**
 * The services this process is running (worker groups included), for /health and /status.
 * Set by the primary when it starts them; empty otherwise.
 */
import type { Service } from "./service.ts";

let current: Service[] = [];

export function setRunningServices(services: Service[]): void {
  current = services;
}

export function runningServices(): Service[] {
  return current;
}
