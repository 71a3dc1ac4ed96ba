/**
 * H1Conn on the native loop, where reads are lent while a head is awaited: a response that repeats
 * the last head is answered from the read itself — each with its own body — and anything else
 * (extra bytes, a split body, a HEAD) takes the copying path, with the same results.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { NestedLoop } from "../../../src/core/native/nested-loop.ts";
import { HeadParts } from "../../../src/proxy/head-parts.ts";
import { ResponsePromise, type UpstreamResponse } from "../../../src/proxy/upstream/connection.ts";
import { Peer } from "../../../src/proxy/upstream/peer.ts";
import { ConnectionPool } from "../../../src/proxy/upstream/pool.ts";
import { sendOnce } from "../../../src/proxy/upstream/send.ts";

// answers by path: the same head every time, a body of its own; /extra sends bytes past the body;
// /split sends the body in a second write
let opened = 0;
const up = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open: () => void opened++,
    data(s, d) {
      for (const line of d.toString().split("\r\n\r\n")) {
        const path = /^(?:GET|HEAD) (\S+)/.exec(line)?.[1];
        if (!path) continue;
        const head = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n";
        if (path === "/extra") s.write(`${head}extraJUNK`);
        else if (path === "/split") {
          s.write(`${head}sp`);
          setTimeout(() => s.write("lit"), 20);
        } else if (line.startsWith("HEAD")) s.write(head);
        else s.write(`${head}${path.slice(1, 6).padEnd(5, ".")}`);
      }
    },
  },
});
afterAll(() => up.stop(true));

const options = { connectionTimeoutMs: 2000, totalConnectionTimeoutMs: 2000, readTimeoutMs: 5000, writeTimeoutMs: 5000, idleTimeoutMs: 30_000 };

describe.skipIf(!NestedLoop.get())("a pooled native connection", () => {
  const pool = new ConnectionPool(4, NestedLoop.get());
  const peer = new Peer("up", `127.0.0.1:${up.port}`, { weight: 1, backup: false }, undefined, options);
  async function get(path: string, method = "GET"): Promise<{ r: UpstreamResponse; body: string; reused: boolean }> {
    const w = new ResponsePromise();
    sendOnce(peer, pool, { method, target: path, headers: new HeadParts().line("host", "t"), body: null }, w);
    const r = await w.promise;
    const body = r.body === null ? "" : r.body instanceof Uint8Array ? Buffer.from(r.body).toString() : await new Response(r.body).text();
    return { r, body, reused: w.reused };
  }

  test("the same head again: each response gets its own body, on one connection", async () => {
    const bodies: string[] = [];
    for (const p of ["/alpha", "/bravo", "/charl", "/delta"]) bodies.push((await get(p)).body);
    expect(bodies).toEqual(["alpha", "bravo", "charl", "delta"]);
    expect(opened).toBe(1);
  });

  test("a HEAD with the same head bytes, a split body and bytes past the body go the copying way, with the same answers", async () => {
    const head = await get("/x", "HEAD");
    expect([head.r.status, head.body, head.reused]).toEqual([200, "", true]);
    const split = await get("/split");
    expect([split.body, split.reused]).toEqual(["split", true]);
    const again = await get("/again");
    expect([again.body, again.reused]).toEqual(["again", true]);
    // extra bytes: the connection is out of sync, so it is closed, not pooled
    const extra = await get("/extra");
    expect(extra.body).toBe("extra");
    const after = await get("/after");
    expect([after.body, after.reused]).toEqual(["after", false]);
    expect(opened).toBe(2);
  });
});
