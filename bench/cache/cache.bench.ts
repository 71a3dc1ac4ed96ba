/**
 * Cache get/put ops/s: securely's sqlite and memory drivers (through the Repository, as module code
 * uses them) beside Keyv with @keyv/sqlite and a Redis server, in the same run, on loopback.
 * Each case runs one operation at a time (awaited), for at most SECONDS or OPS, whichever first.
 *
 *   npm --prefix bench install            # keyv + @keyv/sqlite (sqlite3 needs its native build)
 *   apt-get install -y redis-server
 *   bun bench/cache/cache.bench.ts        # SECONDS=2 ROUNDS=5 OPS=200000 KEYS=10000 to change the bounds
 */
import { RedisClient } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStore } from "../../src/cache/drivers/memory.ts";
import { RedisStore } from "../../src/cache/drivers/redis.ts";
import { SqliteStore } from "../../src/cache/drivers/sqlite.ts";
import { cacheMigrations } from "../../src/cache/migrations.ts";
import { Repository } from "../../src/cache/repository.ts";
import { systemClock } from "../../src/core/clock.ts";
import { Store } from "../../src/core/store/store.ts";

const SECONDS = Number(process.env.SECONDS ?? 2);
const OPS = Number(process.env.OPS ?? 200_000);
const KEYS = Number(process.env.KEYS ?? 10_000);
const VALUE = { id: 42, name: "Ada Lovelace", email: "ada@example.com", roles: ["admin", "ops"], active: true, score: 98.5 };

interface Case {
  name: string;
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<unknown>;
  close(): Promise<void>;
}

async function measure(c: Case, op: "put" | "get", seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (n < OPS) {
    const key = `user:${n % KEYS}`;
    if (op === "put") await c.put(key, VALUE);
    else if ((await c.get(key)) == null) throw new Error(`${c.name}: ${key} missing`);
    n++;
    if ((n & 255) === 0 && performance.now() > end) break;
  }
  return n / ((performance.now() - start) / 1000);
}

const dir = mkdtempSync(join(tmpdir(), "securely-bench-cache-"));
const cases: Case[] = [];
const repoCase = (name: string, repo: Repository, close?: () => void): Case => ({
  name,
  get: (k) => repo.get(k),
  put: (k, v) => repo.put(k, v as any, 3600),
  close: async () => {
    await repo.close();
    close?.();
  },
});

const store = new Store({ path: join(dir, "securely.db"), migrations: cacheMigrations });
cases.push(repoCase("securely sqlite", new Repository(new SqliteStore(store, systemClock), { statsFlushMs: 0 }), () => store.close()));
cases.push(repoCase("securely memory", new Repository(new MemoryStore(systemClock, { maxEntries: KEYS * 2 }), { statsFlushMs: 0 })));

async function keyvCase(name: string, file: string, tuned: boolean): Promise<Case | undefined> {
  try {
    const { default: Keyv } = await import(join(import.meta.dir, "../node_modules/keyv/dist/index.js"));
    const { default: KeyvSqlite } = await import(join(import.meta.dir, "../node_modules/@keyv/sqlite/dist/index.js"));
    const adapter = new KeyvSqlite(`sqlite://${file}`);
    if (tuned) {
      // the same durability settings securely's store uses, so only the code differs
      await adapter.query("PRAGMA journal_mode = WAL");
      await adapter.query("PRAGMA synchronous = NORMAL");
    }
    const keyv = new Keyv({ store: adapter });
    return { name, get: (k) => keyv.get(k), put: (k, v) => keyv.set(k, v, 3_600_000), close: () => keyv.disconnect() };
  } catch (err) {
    console.error(`skipping ${name}: ${(err as Error).message.split("\n")[0]} (run npm --prefix bench install; sqlite3 needs its native build)`);
    return undefined;
  }
}
for (const c of [await keyvCase("keyv sqlite (WAL)", join(dir, "keyv-wal.db"), true), await keyvCase("keyv sqlite (defaults)", join(dir, "keyv.db"), false)]) if (c) cases.push(c);

let redisProc: Bun.Subprocess | undefined;
if (Bun.which("redis-server")) {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "pipe", stderr: "ignore" });
  redisProc = proc;
  // connect only once the server says it is ready (an early connect backs off and skews the numbers)
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    text += decoder.decode(chunk);
    if (text.includes("Ready to accept connections")) break;
  }
  const url = `redis://127.0.0.1:${port}`;
  const raw = new RedisClient(url);
  await raw.connect();
  cases.push({
    name: "redis server (raw GET/SET)",
    get: (k) => raw.get(k),
    put: (k, v) => raw.send("SET", [k, JSON.stringify(v), "PX", "3600000"]),
    close: async () => raw.close(),
  });
  cases.push(repoCase("securely redis", new Repository(new RedisStore(systemClock, { url, prefix: "bench:" }), { statsFlushMs: 0 })));
} else console.error("skipping redis: redis-server not installed");

// the machine is shared and its load moves: run the cases interleaved in ROUNDS short slices and
// keep each case's median, so a busy moment hurts every case alike instead of one
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const samples = new Map<string, { put: number[]; get: number[] }>(cases.map((c) => [c.name, { put: [], get: [] }]));
for (let r = 0; r < ROUNDS; r++) for (const c of cases) samples.get(c.name)!.put.push(await measure(c, "put", SECONDS / ROUNDS));
for (const c of cases) for (let i = 0; i < KEYS; i++) await c.put(`user:${i}`, VALUE); // every key the reads ask for exists
for (let r = 0; r < ROUNDS; r++) for (const c of cases) samples.get(c.name)!.get.push(await measure(c, "get", SECONDS / ROUNDS));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = cases.map((c) => ({ name: c.name, put: median(samples.get(c.name)!.put), get: median(samples.get(c.name)!.get) }));
for (const c of cases) await c.close();
redisProc?.kill();
rmSync(dir, { recursive: true, force: true });

const base = results.find((r) => r.name === "keyv sqlite (WAL)") ?? results.find((r) => r.name.startsWith("keyv"));
const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);
console.log(`cache ops/s (median of ${ROUNDS} interleaved rounds), one awaited op at a time, ${SECONDS}s or ${OPS} ops per case and op, ${KEYS} keys, ~${JSON.stringify(VALUE).length} B JSON value (bun ${Bun.version})`);
console.log(`${"case".padEnd(28)} ${"put/s".padStart(10)} ${"get/s".padStart(10)}${base ? `   put ×${base.name}   get ×${base.name}` : ""}`);
for (const r of results) {
  const ratio = base ? `   ${(r.put / base.put).toFixed(2).padStart(8)}   ${(r.get / base.get).toFixed(2).padStart(8)}` : "";
  console.log(`${r.name.padEnd(28)} ${fmt(r.put)} ${fmt(r.get)}${ratio}`);
}
process.exit(0);
