/**
 * The Exchange (src/proxy/exchange.ts) drives a request's upstream trip from socket callbacks
 * instead of awaits. These pin what it must keep from the await version: a head write that fails
 * is a failed attempt (not an unhandled rejection, which ends Bun), handling the upstream's answer
 * that throws is a failed attempt too, and the logging hook sees only requests the filters let in.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { indent, origin, startProxy } from "./helpers.ts";

let hits = 0;
const ok = origin(() => {
  hits++;
  return new Response("ok");
});

// an upstream that accepts connections and never reads
const deaf = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (s) => void s.pause(), data() {} } });
afterAll(() => deaf.stop(true));

const dir = mkdtempSync(join(tmpdir(), "securely-exchange-"));
const hooks = join(dir, "hooks.ts");
writeFileSync(hooks, "export function logging(ctx) { (globalThis as any).__exchangeLogged = ((globalThis as any).__exchangeLogged ?? 0) + 1; }\n");

// a request head bigger than loopback socket buffers take at once (the upstream write must wait, then time out)
const big = "a".repeat(16 * 1024 * 1024);
const proxy = await startProxy(indent(`listen: ["127.0.0.1:0"]
upstreams:
  ok: { servers: ["${ok.addr}"], max_retries: 0 }
  edit: { servers: ["${ok.addr}"], max_retries: 0 }
  deaf: { servers: ["127.0.0.1:${deaf.port}"], write_timeout: 300ms, max_retries: 0 }
routes:
  - match: { path: /big-head }
    upstream: deaf
    request_headers: { set: { x-big: "${big}" } }
  - match: { path: /bad-edit }
    upstream: edit
    response_headers: { set: { x-a: "€" } }
  - match: { path: /denied }
    upstream: ok
    hooks: ${hooks}
    deny: ["127.0.0.1"]
  - match: { path: /logged }
    upstream: ok
    hooks: ${hooks}
`));
afterAll(() => proxy.stop());

test("an upstream that takes only part of the request head and then stops reading: 502 after write_timeout, and the proxy lives on", async () => {
  const res = await fetch(`${proxy.base}/big-head`);
  expect(res.status).toBe(502);
  expect(await res.text()).toContain("did not accept request bytes within 300 ms");
  expect((await fetch(`${proxy.base}/logged`)).status).toBe(200);
}, 20_000);

test("an answer whose handling throws (a response_headers value Headers refuses) is a failed attempt: 502 naming it", async () => {
  const before = hits;
  const res = await fetch(`${proxy.base}/bad-edit`);
  expect(res.status).toBe(502);
  expect(await res.text()).toContain("invalid value");
  expect(hits).toBe(before + 1);
});

test("the logging hook runs for requests past the filters, not for those they refuse", async () => {
  const g = globalThis as any;
  g.__exchangeLogged = 0;
  expect((await fetch(`${proxy.base}/denied`)).status).toBe(403);
  expect(g.__exchangeLogged).toBe(0);
  expect((await fetch(`${proxy.base}/logged`)).status).toBe(200);
  expect(g.__exchangeLogged).toBe(1);
});
