/**
 * Graceful upgrade, Pingora's model with Bun's tools. Pingora passes the listening sockets from
 * the old process to the new one over `upgrade_sock` (SCM_RIGHTS); Bun has no API for that, so
 * both processes hold the ports at once (SO_REUSEPORT) and upgrade_sock only coordinates:
 *
 *   new (`serve -u`)                         old (got SIGQUIT)
 *   listen on upgrade_sock          ←──────  connect (retrying for upgrade_sock_connect_accept_max_retries s)
 *                                   ←──────  hello {pid, services: {name: ["http 127.0.0.1:8080"]}}
 *   bind the same ports, start
 *   write the pid file
 *   ready {pid} / failed {reason}   ──────→  ready: drain (Connection: close), stop, exit
 *                                            failed or no answer: keep serving
 *
 * Messages are JSON lines. The new instance reuses the old one's ports for listeners configured
 * with port 0, so tests and `listen: …:0` setups survive an upgrade too.
 *
 * The socket often lives in /tmp (Pingora's default), so neither side trusts a stranger: the new
 * instance makes it 0600 (only its own user can connect), and the old one only talks to a socket
 * owned by its own user (or root) — another local user cannot make it hand over and exit.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { chmodSync, existsSync, lstatSync, rmSync } from "node:fs";

export interface Hello {
  type: "hello";
  pid: number;
  services: Record<string, string[]>;
  /** The old primary and its workers: their sockets on our ports are expected, not a conflict. */
  pids?: number[];
}

type Reply = { type: "ready"; pid: number } | { type: "failed"; reason: string };

/** Read JSON lines from a socket, one callback per message. */
function onLines(sock: Socket, fn: (msg: any) => void): void {
  let buf = "";
  sock.setEncoding("utf8");
  sock.on("data", (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        fn(JSON.parse(line));
      } catch {
        // not ours: ignore garbage on the socket
      }
    }
  });
}

/** The new instance's side: the connected old instance, ready to be answered. */
export interface OldInstance {
  hello: Hello;
  ready(pid: number): Promise<void>;
  failed(reason: string): Promise<void>;
}

/**
 * Listen on `path` and wait up to `timeoutMs` for the old instance to connect and say hello.
 * Resolves undefined when none does (it crashed, or nobody sent it SIGQUIT).
 */
export async function awaitOldInstance(path: string, timeoutMs: number): Promise<OldInstance | undefined> {
  if (existsSync(path)) rmSync(path, { force: true });
  const server: Server = createServer();
  // bind with umask 077 so the socket is 0600 from its first instant, not after a chmod
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o600);
  const cleanup = () => {
    server.close();
    rmSync(path, { force: true });
  };
  return new Promise<OldInstance | undefined>((resolve) => {
    const timer = setTimeout(() => {
      cleanup();
      resolve(undefined);
    }, timeoutMs);
    server.on("connection", (sock) => {
      onLines(sock, (msg) => {
        if (msg?.type !== "hello") return;
        clearTimeout(timer);
        const send = (reply: Reply) =>
          new Promise<void>((done) => {
            sock.end(JSON.stringify(reply) + "\n", () => done());
            sock.once("error", () => done());
          }).finally(cleanup);
        resolve({ hello: msg as Hello, ready: (pid) => send({ type: "ready", pid }), failed: (reason) => send({ type: "failed", reason }) });
      });
      sock.on("error", () => {});
    });
  });
}

export type HandOverResult = { ok: true; pid: number } | { ok: false; reason: string };

/**
 * The old instance's side: connect to the new one (retrying every 100 ms for `connectTimeoutMs`),
 * send hello, wait up to `readyTimeoutMs` for ready or failed.
 */
export async function handOver(path: string, hello: Hello, connectTimeoutMs: number, readyTimeoutMs: number): Promise<HandOverResult> {
  const end = Date.now() + connectTimeoutMs;
  let sock: Socket | undefined;
  let lastErr = "";
  while (!sock) {
    const stranger = foreignOwner(path);
    if (stranger !== undefined) return { ok: false, reason: `${path} belongs to uid ${stranger}, not to this user; refusing to hand over to it` };
    try {
      sock = await new Promise<Socket>((resolve, reject) => {
        const s = createConnection(path, () => resolve(s));
        s.once("error", reject);
      });
    } catch (err) {
      lastErr = (err as Error).message;
      if (Date.now() >= end) return { ok: false, reason: `no new instance listening on ${path} (${lastErr}); start one with \`serve -u\`` };
      await Bun.sleep(100);
    }
  }
  const conn = sock;
  return new Promise<HandOverResult>((resolve) => {
    let settled = false;
    const finish = (r: HandOverResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `new instance not ready after ${Math.round(readyTimeoutMs / 1000)} s` }), readyTimeoutMs);
    onLines(conn, (msg: Reply) => {
      if (msg?.type === "ready") finish({ ok: true, pid: msg.pid });
      else if (msg?.type === "failed") finish({ ok: false, reason: `new instance failed: ${msg.reason}` });
    });
    conn.on("close", () => finish({ ok: false, reason: "new instance closed the upgrade socket without taking over" }));
    conn.on("error", () => {});
    conn.write(JSON.stringify(hello) + "\n");
  });
}

/** The owner uid of `path` when it is neither ours nor root's (undefined when absent or trusted). */
function foreignOwner(path: string): number | undefined {
  if (typeof process.geteuid !== "function") return undefined;
  try {
    const { uid } = lstatSync(path);
    return uid === process.geteuid() || uid === 0 ? undefined : uid;
  } catch {
    return undefined;
  }
}
