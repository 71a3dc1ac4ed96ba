/**
 * Access log: one line per request, NCSA combined (plus duration, route and server) or JSON lines,
 * to stdout/stderr or appended to a file.
 */
import { createWriteStream } from "node:fs";
export interface AccessEntry {
  time: Date;
  clientIp: string;
  method: string;
  target: string;
  status: number;
  bytes: number | undefined;
  referer: string | null;
  userAgent: string | null;
  route: string;
  upstream: string | undefined;
  server: string | undefined;
  durationMs: number;
  attempts: number;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

function clf(d: Date): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const q = (s: string | null) => (s === null ? "-" : s.replace(/["\\]/g, (c) => `\\${c}`));

export function formatCombined(e: AccessEntry): string {
  return `${e.clientIp} - - [${clf(e.time)}] "${q(e.method)} ${q(e.target)} HTTP/1.1" ${e.status} ${e.bytes ?? "-"} "${q(e.referer)}" "${q(e.userAgent)}" ${e.durationMs.toFixed(1)}ms ${e.route} ${e.server ?? "-"}\n`;
}

export function formatJson(e: AccessEntry): string {
  return (
    JSON.stringify({
      time: e.time.toISOString(),
      client_ip: e.clientIp,
      method: e.method,
      target: e.target,
      status: e.status,
      bytes: e.bytes ?? null,
      referer: e.referer,
      user_agent: e.userAgent,
      route: e.route,
      upstream: e.upstream ?? null,
      server: e.server ?? null,
      duration_ms: Math.round(e.durationMs * 1000) / 1000,
      attempts: e.attempts,
    }) + "\n"
  );
}

export class AccessLog {
  private sink?: { write(s: string): unknown; end(): Promise<void> };
  private readonly format: (e: AccessEntry) => string;

  constructor(path: string, format: "combined" | "json") {
    this.format = format === "json" ? formatJson : formatCombined;
    if (path === "stdout") this.sink = { write: (s) => process.stdout.write(s), end: async () => {} };
    else if (path === "stderr") this.sink = { write: (s) => process.stderr.write(s), end: async () => {} };
    else {
      // append (never truncate an existing log); node's stream buffers writes for us
      const w = createWriteStream(path, { flags: "a" });
      // stop waits for the last lines to reach the file: a stopped proxy has logged every request
      this.sink = { write: (s) => w.write(s), end: () => new Promise<void>((done) => w.end(() => done())) };
    }
  }

  write(e: AccessEntry): void {
    this.sink?.write(this.format(e));
  }

  async close(): Promise<void> {
    const sink = this.sink;
    this.sink = undefined;
    await sink?.end();
  }
}
