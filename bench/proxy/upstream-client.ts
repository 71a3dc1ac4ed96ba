/**
 * Which upstream HTTP/1.1 client should the proxy use under Bun? Sends the same small GET to one
 * origin with 64 requests in flight, for a fixed number of requests, through: fetch (Bun's keepalive
 * pool), npm undici's Pool (imported by path: `import "undici"` is Bun's stub), and securely's
 * Bun.connect client (src/proxy/upstream). Prints requests/s and this process's CPU µs per request.
 * Usage: bun bench/proxy/upstream-client.ts HOST:PORT [REQUESTS]
 */
import { Peer } from "../../src/proxy/upstream/peer.ts";
import { ConnectionPool } from "../../src/proxy/upstream/pool.ts";
import { sendOnce } from "../../src/proxy/upstream/send.ts";
import { ResponsePromise } from "../../src/proxy/upstream/connection.ts";
import { HeadParts } from "../../src/proxy/head-parts.ts";

const target = process.argv[2] ?? "127.0.0.1:8080";
const total = Number(process.argv[3] ?? 50_000);
const CONC = 64;

async function drive(name: string, one: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 500; i++) await one(); // warm up
  let left = total;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (left-- > 0) await one();
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(`${name.padEnd(22)} ${Math.round((total / ms) * 1000).toString().padStart(7)} req/s  ${((cpu.user + cpu.system) / total).toFixed(1).padStart(6)} us CPU/req`);
}

const url = `http://${target}/`;
await drive("fetch", async () => {
  const r = await fetch(url);
  await r.arrayBuffer();
});

const undici = (await import("undici/index.js" as string)) as any;
const pool = new undici.Pool(`http://${target}`, { connections: CONC, pipelining: 1 });
await drive("undici Pool (npm)", async () => {
  const r = await pool.request({ path: "/", method: "GET" });
  await r.body.arrayBuffer();
});
await pool.close();

const peer = new Peer("bench", target, { weight: 1, backup: false }, undefined, { connectionTimeoutMs: 5000, totalConnectionTimeoutMs: 5000, readTimeoutMs: 60000, writeTimeoutMs: 60000, idleTimeoutMs: 60000 });
const own = new ConnectionPool(128);
await drive("securely Bun.connect", async () => {
  const w = new ResponsePromise();
  sendOnce(peer, own, { method: "GET", target: "/", headers: new HeadParts().line("host", target), body: null }, w);
  const b = (await w.promise).body;
  if (b instanceof ReadableStream) await new Response(b).arrayBuffer();
});
own.closeAll();
process.exit(0);
