import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { enableWal, Store } from "../../../src/core/store/store.ts";
import type { Migration } from "../../../src/core/store/migrations.ts";
import { BUN, eventually, tempDir } from "../../harness.ts";

const m1: Migration = { namespace: "demo", version: 1, description: "items", up: "CREATE TABLE demo_items (id INTEGER PRIMARY KEY, name TEXT)" };
const m2: Migration = { namespace: "demo", version: 2, description: "add size", up: (db) => db.exec("ALTER TABLE demo_items ADD COLUMN size INTEGER") };

describe("store", () => {
  test("WAL, pragmas, 0600 file in a 0700 folder", () => {
    const path = join(tempDir(), "nested", "store.db");
    const s = new Store({ path });
    expect((s.db.query("PRAGMA journal_mode").get() as any).journal_mode).toBe("wal");
    expect((s.db.query("PRAGMA foreign_keys").get() as any).foreign_keys).toBe(1);
    expect((s.db.query("PRAGMA synchronous").get() as any).synchronous).toBe(1); // NORMAL
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    s.close();
  });

  test("migrations apply once, in order, per namespace", () => {
    const path = join(tempDir(), "store.db");
    new Store({ path, migrations: [m1] }).close();
    const s = new Store({ path, migrations: [m2, m1] });
    s.db.exec("INSERT INTO demo_items (name, size) VALUES ('a', 1)");
    expect(s.db.query("SELECT version FROM core_migrations WHERE namespace='demo' ORDER BY version").all()).toEqual([{ version: 1 }, { version: 2 }]);
    s.close();
  });

  test("a store with a newer schema than the binary knows is refused, untouched", () => {
    const path = join(tempDir(), "store.db");
    new Store({ path, migrations: [m1, m2] }).close();
    expect(() => new Store({ path, migrations: [m1] })).toThrow(/demo schema version 2, newer than this binary knows \(1\)/);
  });

  test("a failing migration leaves nothing half-applied", () => {
    const path = join(tempDir(), "store.db");
    const bad: Migration = { namespace: "demo", version: 2, description: "broken", up: "ALTER TABLE demo_items ADD COLUMN x INTEGER; SELECT * FROM missing_table" };
    expect(() => new Store({ path, migrations: [m1, bad] })).toThrow();
    const s = new Store({ path, migrations: [m1] });
    expect(s.db.query("SELECT MAX(version) AS v FROM core_migrations WHERE namespace='demo'").get()).toEqual({ v: 1 });
    expect((s.db.query("PRAGMA table_info(demo_items)").all() as any[]).map((c) => c.name)).toEqual(["id", "name"]);
    s.close();
  });

  test("change feed: sequences per topic, seen by another connection", async () => {
    const path = join(tempDir(), "store.db");
    const a = new Store({ path });
    const b = new Store({ path });
    const seen: number[] = [];
    const stop = b.changes.watch("dns", (seq) => seen.push(seq), 20);
    a.tx(() => a.changes.bump("dns"));
    a.tx(() => a.changes.bump("other"));
    expect(a.changes.seq("dns")).toBe(1);
    await eventually(() => seen.length === 1);
    a.tx(() => a.changes.bump("dns"));
    await eventually(() => seen.includes(2));
    stop();
    a.close();
    b.close();
  });

  test("two processes hammering writes: no SQLITE_BUSY, no lost write", async () => {
    const path = join(tempDir(), "store.db");
    new Store({ path }).close();
    const spawn = (who: string) =>
      Bun.spawn([BUN, join(import.meta.dir, "fixtures/hammer.ts"), path, who, "1500"], { stdout: "pipe", stderr: "pipe" });
    const procs = [spawn("a"), spawn("b")];
    const results = await Promise.all(procs.map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text(), err: await new Response(p.stderr).text() })));
    for (const r of results) {
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
    }
    const s = new Store({ path });
    const counts = Object.fromEntries((s.db.query("SELECT who, COUNT(*) AS n FROM t_hammer GROUP BY who").all() as any[]).map((r) => [r.who, r.n]));
    expect(counts.a).toBe(Number(results[0]!.out));
    expect(counts.b).toBe(Number(results[1]!.out));
    expect(counts.a).toBeGreaterThan(0);
    expect(s.changes.seq("hammer")).toBe(counts.a + counts.b);
    s.close();
  });
});

test("processes opening a fresh store at the same moment all migrate cleanly", async () => {
  const path = join(tempDir(), "store.db");
  const script = `import { Store } from ${JSON.stringify(join(import.meta.dir, "../../../src/core/store/store.ts"))};
    const ms = Array.from({ length: 5 }, (_, i) => ({ namespace: "race", version: i + 1, description: "t" + i, up: "CREATE TABLE race_t" + i + " (x)" }));
    new Store({ path: ${JSON.stringify(path)}, migrations: ms }).close();`;
  const procs = Array.from({ length: 4 }, () => Bun.spawn([BUN, "-e", script], { stdout: "pipe", stderr: "pipe" }));
  const res = await Promise.all(procs.map(async (p) => ({ code: await p.exited, err: await new Response(p.stderr).text() })));
  for (const r of res) expect(r).toEqual({ code: 0, err: "" });
  const s = new Store({ path });
  expect(s.db.query("SELECT COUNT(*) AS n FROM core_migrations WHERE namespace='race'").get()).toEqual({ n: 5 });
  s.close();
});

test("switching to WAL is tried again while SQLite answers SQLITE_BUSY at once, up to the busy timeout", () => {
  const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
  let calls = 0;
  enableWal({ exec: () => {
    if (++calls < 3) throw busy;
  } } as any, 1000);
  expect(calls).toBe(3);
  // another error, or a lock that outlasts the timeout, is not retried away
  let other = 0;
  expect(() => enableWal({ exec: () => { other++; throw Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" }); } } as any, 1000)).toThrow("disk I/O error");
  expect(other).toBe(1);
  expect(() => enableWal({ exec: () => { throw busy; } } as any, 20)).toThrow("database is locked");
});
