/**
 * SO_REUSEPORT lets a second instance bind a port the first one holds, and the kernel then
 * silently splits traffic between them. So after binding (outside an upgrade) we look in
 * /proc/net for another process's socket on each port we listen on and refuse to run if there is
 * one. Linux only; elsewhere the check is skipped.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";

interface Sock {
  proto: "tcp" | "udp";
  addr: string;
  port: number;
  inode: string;
}

function parseTable(file: string, proto: "tcp" | "udp"): Sock[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: Sock[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    // tcp: only LISTEN (0A); udp: unconnected (07) sockets are the bound "listeners"
    if (f[3] !== (proto === "tcp" ? "0A" : "07")) continue;
    const [hexAddr, hexPort] = f[1]!.split(":");
    out.push({ proto, addr: hexAddr!, port: parseInt(hexPort!, 16), inode: f[9]! });
  }
  return out;
}

function listeners(): Sock[] {
  return [
    ...parseTable("/proc/net/tcp", "tcp"),
    ...parseTable("/proc/net/tcp6", "tcp"),
    ...parseTable("/proc/net/udp", "udp"),
    ...parseTable("/proc/net/udp6", "udp"),
  ];
}

/** Socket inodes held open by these processes. */
function socketInodes(pids: number[]): Set<string> {
  const out = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.add(m[1]!);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return out;
}

/** Owner pids of socket inodes, for the error message (best effort, needs permission). */
function ownerOf(inode: string): number | undefined {
  const want = `socket:[${inode}]`;
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${d}/fd`);
    } catch {
      continue; // not ours to read, or gone
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${d}/fd/${fd}`) === want) return Number(d);
      } catch {
        // this fd closed meanwhile: the rest of the process's fds still count (a busy process
        // closing any fd during the scan used to hide the owner)
      }
    }
  }
  return undefined;
}

/** "http 127.0.0.1:8080" → proto + port; unix sockets and unparsable lines give undefined. */
export function parseListen(line: string): { proto: "tcp" | "udp"; port: number } | undefined {
  const parts = line.trim().split(/\s+/);
  const addr = parts.at(-1)!;
  const scheme = parts.length > 1 ? parts[0]!.toLowerCase() : "tcp";
  if (scheme === "unix" || addr.startsWith("/")) return undefined;
  const m = /:(\d+)$/.exec(addr);
  if (!m) return undefined;
  return { proto: scheme === "udp" ? "udp" : "tcp", port: Number(m[1]) };
}

export interface PortConflict {
  listen: string;
  pid?: number;
}

/**
 * Addresses from `listening` that another process (not in `ownPids`) also holds. Wildcard and
 * specific addresses on the same port are treated as overlapping, as the kernel does.
 */
export function foreignListeners(listening: string[], ownPids: number[]): PortConflict[] {
  if (!existsSync("/proc/net/tcp")) return [];
  const mine = socketInodes(ownPids);
  const all = listeners();
  const out: PortConflict[] = [];
  for (const line of listening) {
    const want = parseListen(line);
    if (!want) continue;
    const other = all.find((s) => s.proto === want.proto && s.port === want.port && !mine.has(s.inode) && s.inode !== "0");
    if (other) out.push({ listen: line, pid: ownerOf(other.inode) });
  }
  return out;
}
