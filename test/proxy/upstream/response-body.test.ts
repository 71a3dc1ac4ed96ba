/**
 * A streamed upstream body (upstream/response-body.ts): read through its stream, or relayed to the
 * client from the socket's lent reads. Rules first, with a fake connection and client; then real
 * bodies through the proxy (curl, raw sockets: a slow reader, a client that leaves mid-body) and
 * over the native loop, where the reads must come lent.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";
import { NestedLoop } from "../../../src/core/native/nested-loop.ts";
import { HeadParts } from "../../../src/proxy/head-parts.ts";
import { ResponsePromise } from "../../../src/proxy/upstream/connection.ts";
import { Peer } from "../../../src/proxy/upstream/peer.ts";
import { ConnectionPool } from "../../../src/proxy/upstream/pool.ts";
import { relayOf, ResponseBody, type BodyProducer, type RelaySink } from "../../../src/proxy/upstream/response-body.ts";
import { sendOnce } from "../../../src/proxy/upstream/send.ts";
import { eventually } from "../../harness.ts";
import { indent, origin, startProxy } from "../helpers.ts";

class FakeConn implements BodyProducer {
  calls: string[] = [];
  pause = () => void this.calls.push("pause");
  resume = () => void this.calls.push("resume");
  cancel = () => void this.calls.push("cancel");
  lend = (on: boolean) => void this.calls.push(`lend ${on}`);
}

class FakeClient implements RelaySink {
  got: string[] = [];
  ended: boolean | undefined;
  takes = true;
  body(buf: Uint8Array, at: number, n: number): boolean {
    this.got.push(Buffer.from(buf.subarray(at, at + n)).toString());
    return this.takes;
  }
  end(ok: boolean): void {
    this.ended = ok;
  }
}

const b = (s: string) => Buffer.from(s);

describe("ResponseBody rules", () => {
  test("what was queued before the relay reaches the client first, in order; later pushes follow, lent reads included", () => {
    const conn = new FakeConn();
    const rb = new ResponseBody(conn, true);
    rb.push(b("one"), 0, 3, true);
    rb.push(b("xtwox"), 1, 3, false);
    const client = new FakeClient();
    expect(rb.relay(client)).toBe(true);
    expect(conn.calls).toEqual(["lend true", "resume"]);
    const lent = b("__three__");
    rb.push(lent, 2, 5, false);
    rb.end();
    expect(client.got).toEqual(["one", "two", "three"]);
    expect(client.ended).toBe(true);
    expect(relayOf(rb.stream)).toBe(rb);
  });

  test("no relay once the stream has a reader, or for a body that is not relayable", () => {
    const read = new ResponseBody(new FakeConn(), true);
    read.stream.getReader();
    expect(read.relay(new FakeClient())).toBe(false);
    expect(new ResponseBody(new FakeConn(), false).relay(new FakeClient())).toBe(false);
  });

  test("a client that does not take everything pauses the connection until resume; a body already complete ends at once", () => {
    const conn = new FakeConn();
    const rb = new ResponseBody(conn, true);
    const client = new FakeClient();
    client.takes = false;
    rb.push(b("a"), 0, 1, true);
    rb.relay(client);
    expect(conn.calls).toEqual(["lend true", "pause"]);
    expect(rb.push(b("b"), 0, 1, false)).toBe(false);
    rb.resume();
    expect(conn.calls.at(-1)).toBe("resume");

    const done = new ResponseBody(new FakeConn(), true);
    done.push(b("all"), 0, 3, true);
    done.end();
    const late = new FakeClient();
    expect(done.relay(late)).toBe(true);
    expect([late.got, late.ended]).toEqual([["all"], true]);
  });

  test("a failure mid-relay tells the client to cut; a client that leaves cancels the connection once", () => {
    const rb = new ResponseBody(new FakeConn(), true);
    const client = new FakeClient();
    rb.relay(client);
    rb.fail();
    expect(client.ended).toBe(false);

    const conn = new FakeConn();
    const left = new ResponseBody(conn, true);
    const gone = new FakeClient();
    left.relay(gone);
    left.cancel();
    left.cancel();
    expect(conn.calls.filter((c) => c === "cancel")).toHaveLength(1);
    // the relay settles (as cut), so the front moves on
    expect(gone.ended).toBe(false);
  });

  test("read as a stream: queued chunks, then the end; the connection stops past 256 KiB queued and reads on as the reader catches up", async () => {
    const conn = new FakeConn();
    const rb = new ResponseBody(conn, true);
    const big = new Uint8Array(200 * 1024);
    expect(rb.push(big, 0, big.length, true)).toBe(true);
    expect(rb.push(big, 0, big.length, true)).toBe(false);
    rb.push(b("tail"), 0, 4, false);
    rb.end();
    const got = await new Response(rb.stream).arrayBuffer();
    expect(got.byteLength).toBe(2 * big.length + 4);
    expect(Buffer.from(got).subarray(-4).toString()).toBe("tail");

    const failing = new ResponseBody(new FakeConn(), true);
    failing.push(b("part"), 0, 4, true);
    failing.fail();
    await expect(new Response(failing.stream).arrayBuffer()).rejects.toBeUndefined();
  });
});

// 6 MiB of random bytes, Content-Length framed: relayed; `/small` for the keep-alive check after it
const BODY = randomBytes(6 * 1024 * 1024);
const SUM = createHash("sha256").update(BODY).digest("hex");
const up = origin((req) => (new URL(req.url).pathname === "/small" ? new Response("small") : new Response(BODY)));

// the same body from a raw origin that counts its connections' opens and closes
const conns = { opened: 0, closed: 0 };
type Out = { at: number };
const send = (s: { write(d: Uint8Array): number; data: Out }) => {
  while (s.data.at < BODY.length) {
    const n = s.write(BODY.subarray(s.data.at, s.data.at + 64 * 1024));
    if (n <= 0) return;
    s.data.at += n;
  }
};
const counted = Bun.listen<Out>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open: (s) => void ((s.data = { at: 0 }), conns.opened++),
    data(s) {
      s.data.at = 0;
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${BODY.length}\r\n\r\n`);
      send(s);
    },
    drain: send,
    close: () => void conns.closed++,
  },
});

// promises the body, sends 300 KiB of it, then goes silent (past read_timeout)
const stalling = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(s) {
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${BODY.length}\r\n\r\n`);
      s.write(BODY.subarray(0, 300 * 1024));
    },
  },
});

const proxy = await startProxy(indent(`listen: ["127.0.0.1:0"]
upstreams:
  up: { servers: ["${up.addr}"] }
  counted: { servers: ["127.0.0.1:${counted.port}"] }
  stalling: { servers: ["127.0.0.1:${stalling.port}"], read_timeout: 1, max_retries: 0 }
routes:
  - match: { path: /counted }
    upstream: counted
  - match: { path: /stalling }
    upstream: stalling
  - upstream: up
`));
afterAll(() => {
  counted.stop(true);
  stalling.stop(true);
});
const sha = (d: Uint8Array) => createHash("sha256").update(d).digest("hex");

/** A raw keep-alive client that reads one response at a time, optionally stalling while it reads. */
function client() {
  const sock = connect({ host: "127.0.0.1", port: proxy.port });
  let buf = Buffer.alloc(0);
  let wake = () => {};
  sock.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake();
  });
  const more = () => new Promise<void>((r) => (wake = r));
  return {
    sock,
    /** One response to GET `path`: its head and body (by Content-Length). `stall`: pause for 150 ms after every ~1 MiB. */
    async get(path: string, stall = false): Promise<{ head: string; body: Buffer }> {
      sock.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
      let end: number;
      while ((end = buf.indexOf("\r\n\r\n")) < 0) await more();
      const head = buf.subarray(0, end).toString("latin1");
      const len = Number(/content-length: (\d+)/i.exec(head)![1]);
      let mark = 0;
      while (buf.length < end + 4 + len) {
        if (stall && buf.length - mark > 1024 * 1024) {
          mark = buf.length;
          sock.pause();
          await Bun.sleep(150);
          sock.resume();
        }
        await Promise.race([more(), Bun.sleep(200)]);
      }
      const body = buf.subarray(end + 4, end + 4 + len);
      buf = buf.subarray(end + 4 + len);
      return { head, body };
    },
  };
}

describe("relayed bodies through the proxy", () => {
  test("curl gets the body byte for byte, twice on one connection", async () => {
    const p = Bun.spawn(["curl", "-sv", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{size_download}\\n", `${proxy.base}/a`, `${proxy.base}/b`], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    expect(out.trim().split("\n")).toEqual([String(BODY.length), String(BODY.length)]);
    expect(err).toContain("Re-using existing connection");
    const direct = await fetch(`${proxy.base}/c`);
    expect(sha(new Uint8Array(await direct.arrayBuffer()))).toBe(SUM);
  });

  test("a client that keeps stalling gets every byte in order, and the connection then serves the next request", async () => {
    const c = client();
    const big = await c.get("/x", true);
    expect(big.head).toContain(`content-length: ${BODY.length}`);
    expect(sha(big.body)).toBe(SUM);
    const small = await c.get("/small");
    expect(small.body.toString()).toBe("small");
    c.sock.destroy();
  });

  test("a client that leaves mid-body: the upstream connection is closed, not pooled, and the proxy serves on", async () => {
    const c = client();
    c.sock.write("GET /counted HTTP/1.1\r\nHost: t\r\n\r\n");
    let got = 0;
    await new Promise<void>((r) =>
      c.sock.on("data", (d: Buffer) => {
        got += d.length;
        if (got > 512 * 1024) r();
      }),
    );
    c.sock.destroy();
    await eventually(() => conns.closed === 1, 3000);
    const after = await fetch(`${proxy.base}/counted`);
    expect(sha(new Uint8Array(await after.arrayBuffer()))).toBe(SUM);
    expect(conns).toEqual({ opened: 2, closed: 1 });
  });
});

test("an upstream that stalls mid-body past read_timeout: the client gets the head, part of the body and a closed connection", async () => {
  const c = client();
  let got = Buffer.alloc(0);
  let closed = false;
  c.sock.on("data", (d: Buffer) => (got = Buffer.concat([got, d])));
  c.sock.on("close", () => (closed = true));
  c.sock.write("GET /stalling HTTP/1.1\r\nHost: t\r\n\r\n");
  await eventually(() => closed, 5000);
  const end = got.indexOf("\r\n\r\n");
  expect(got.subarray(0, end).toString()).toContain(`content-length: ${BODY.length}`);
  const body = got.subarray(end + 4);
  expect(body.length).toBeLessThan(BODY.length);
  expect(body.equals(BODY.subarray(0, body.length))).toBe(true);
});

describe.skipIf(!NestedLoop.get())("on the native loop", () => {
  test("body reads are lent: a few reused buffers carry the whole body, and the connection goes back to the pool", async () => {
    const pool = new ConnectionPool(4, NestedLoop.get());
    const options = { connectionTimeoutMs: 2000, totalConnectionTimeoutMs: 2000, readTimeoutMs: 5000, writeTimeoutMs: 5000, idleTimeoutMs: 30_000 };
    const peer = new Peer("up", up.addr, { weight: 1, backup: false }, undefined, options);
    const w = new ResponsePromise();
    sendOnce(peer, pool, { method: "GET", target: "/", headers: new HeadParts().line("host", "t"), body: null }, w);
    const r = await w.promise;
    const source = relayOf(r.body as ReadableStream<Uint8Array>)!;
    const buffers = new Set<ArrayBufferLike>();
    const parts: Buffer[] = [];
    let calls = 0;
    let ended: boolean | undefined;
    source.relay({
      body(buf, at, n) {
        calls++;
        buffers.add(buf.buffer);
        parts.push(Buffer.from(buf.subarray(at, at + n)));
        return true;
      },
      end: (ok) => (ended = ok),
    });
    await eventually(() => ended !== undefined, 5000);
    expect(ended).toBe(true);
    expect(sha(Buffer.concat(parts))).toBe(SUM);
    expect(calls).toBeGreaterThan(4);
    // lent: reads land in the socket's shared buffer (and the batch's slab), not a fresh one each
    expect(buffers.size).toBeLessThan(calls);
    await eventually(() => peer.active === 0);
    expect(pool.size).toBeGreaterThan(0);
  });
});
