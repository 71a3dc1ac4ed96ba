/**
 * A long-running service, Pingora-style. `securely serve` starts every enabled service through
 * this interface; `proxy:serve`, `dns:serve`, `queue:work`, `schedule:work` start exactly one.
 * Lifecycle: construct (provision + validate) → start → [reload]* → stop (drain).
 */
export interface Service {
  /** Unique name, e.g. "proxy", "dns", "metrics", "queue", "schedule", "proxy.health". */
  name: string;
  /** Listening services get `threads` worker processes sharing their ports (SO_REUSEPORT). */
  kind: "listening" | "background";
  /** Names of services that must be ready before this one starts (Pingora 0.8 dependencies). */
  dependsOn?: string[];
  /**
   * Worker processes for this listening service; default: the top-level `threads`. 1 runs it in
   * the primary process (the metrics listener does, so /metrics and /health see the supervisor).
   */
  threads?: number;
  /** Resolves once ready. Listening services return their bound addresses ("tcp 127.0.0.1:8080"). */
  start(): Promise<StartResult | void>;
  /**
   * graceful=false: stop now (SIGINT). graceful=true: stop accepting, let in-flight work finish
   * within `timeoutMs`, then stop (SIGTERM / upgrade drain).
   */
  stop(opts: StopOptions): Promise<void>;
  /** Apply a new config where safe (SIGHUP). Return the keys that need a restart to take effect. */
  reload?(next: import("../app.ts").App): Promise<ReloadResult>;
  /** Free-form state for `securely status` and /health. */
  status?(): ServiceStatus;
}

export interface StartResult {
  listening: string[];
}

export interface StopOptions {
  graceful: boolean;
  timeoutMs: number;
  /**
   * Why it stops: "upgrade" means a new instance already listens on the same ports (SO_REUSEPORT)
   * and takes the new connections; "shutdown" (the default) means nobody will.
   */
  reason?: "shutdown" | "upgrade";
}

export interface ReloadResult {
  applied: string[];
  needsRestart: string[];
}

export interface ServiceStatus {
  ready: boolean;
  [key: string]: unknown;
}
