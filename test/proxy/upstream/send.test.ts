/**
 * sendOnce against a real HTTP/1.1 server: a request counts in the load of the peer the balancer
 * selected, even on a pooled connection another Peer object opened (a reload builds new Peers;
 * one server may sit in two upstreams) — least_conn and power_of_two read that count.
 */
import { afterAll, expect, test } from "bun:test";
import { Peer, type PeerOptions } from "../../../src/proxy/upstream/peer.ts";
import { ConnectionPool } from "../../../src/proxy/upstream/pool.ts";
import { sendOnce, type OutgoingRequest } from "../../../src/proxy/upstream/send.ts";
import { ResponsePromise } from "../../../src/proxy/upstream/connection.ts";
import { HeadParts } from "../../../src/proxy/head-parts.ts";

let release!: () => void;
const origin = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    if (new URL(req.url).pathname === "/hold") await new Promise<void>((r) => (release = r));
    return new Response("ok");
  },
});
afterAll(() => origin.stop(true));

const options: PeerOptions = { connectionTimeoutMs: 2000, totalConnectionTimeoutMs: 2000, readTimeoutMs: 5000, writeTimeoutMs: 5000, idleTimeoutMs: 30_000 };
const get = (target: string): OutgoingRequest => ({ method: "GET", target, headers: new HeadParts().line("host", "127.0.0.1"), body: null });

test("the in-flight count goes to the selected peer, not to the Peer that opened the pooled connection", async () => {
  const addr = `127.0.0.1:${origin.port}`;
  const before = new Peer("api", addr, { weight: 1, backup: false }, undefined, options);
  const after = new Peer("api", addr, { weight: 1, backup: false }, undefined, options); // e.g. rebuilt by a reload
  expect(after.key).toBe(before.key);
  const pool = new ConnectionPool(8);

  const first = new ResponsePromise();
  sendOnce(before, pool, get("/"), first);
  expect((await first.promise).head.status).toBe(200);
  expect(before.active).toBe(0);

  const attempt = new ResponsePromise();
  sendOnce(after, pool, get("/hold"), attempt);
  // the pooled connection: started synchronously
  expect(attempt.conn).toBeDefined();
  expect(attempt.reused).toBe(true);
  expect([before.active, after.active]).toEqual([0, 1]);
  const deadline = Date.now() + 3000;
  while (!release && Date.now() < deadline) await Bun.sleep(5);
  release();
  expect((await attempt.promise).head.status).toBe(200);
  expect([before.active, after.active]).toEqual([0, 0]);
});
