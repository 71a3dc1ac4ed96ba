/**
 * Optional query log: one JSON line per answered query (fail2ban- and jq-friendly, the format
 * Hickory users ask for in #1525), to a file or stderr, optionally sampled. Off by default.
 */
import { appendFileSync, writeSync } from "node:fs";

export interface QueryLogEntry {
  ts: string;
  client: string;
  proto: string;
  name: string;
  type: string;
  rcode: string;
  /** zone, answer-cache, forward, cache, refused, error… */
  source: string;
  /** Handling time; only on the sampled (timed) queries. */
  ms?: number;
}

export class QueryLog {
  private buffer: string[] = [];
  private timer: ReturnType<typeof setInterval>;
  private n = 0;

  /** `path`: file to append to, or "" for stderr. `sample`: log one query in N. */
  constructor(private path: string, private sample: number) {
    this.timer = setInterval(() => this.flush(), 200);
    (this.timer as any).unref?.();
  }

  log(entry: () => QueryLogEntry): void {
    if (this.sample > 1 && this.n++ % this.sample !== 0) return;
    this.buffer.push(JSON.stringify(entry()));
    if (this.buffer.length >= 1000) this.flush();
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join("\n") + "\n";
    this.buffer = [];
    try {
      if (this.path) appendFileSync(this.path, text);
      // fd 2 directly: in the DNS I/O thread process.stderr is a stream that needs an event loop turn
      else writeSync(2, text);
    } catch {
      // a full disk must not stop DNS; the log is best effort
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
