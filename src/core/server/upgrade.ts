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
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { existsSync, rmSync } from "node:fs";

export interface Hello {
  type: "hello";
  pid: number;
  services: Record<string, string[]>;
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
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
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
