import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../../harness.ts";

describe("securely CLI", () => {
  test("--help lists every namespace's commands, grouped", async () => {
    const r = await runSecurely(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("core — serve, status, version, config and store");
    for (const c of ["config:check", "config:show", "config:get", "store:info", "store:backup", "store:check", "serve", "version"]) expect(r.stdout).toContain(`  ${c}`);
    expect(r.stdout).toContain("--json");
  });

  test("a command's --help shows its flags", async () => {
    const r = await runSecurely(["store:backup", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--force");
    expect(r.stdout).toContain("FILE");
  });

  test("version prints securely, Bun and SQLite versions; --json too", async () => {
    const r = await runSecurely(["version"]);
    expect(r.stdout).toMatch(/^securely \d+\.\d+\.\d+ \(bun \d+\.\d+\.\d+, sqlite 3\.\d+\.\d+/);
    const j = JSON.parse((await runSecurely(["version", "--json"])).stdout);
    expect(Object.keys(j)).toEqual(["securely", "bun", "sqlite", "platform"]);
  });

  test("unknown command exits 2 with did-you-mean", async () => {
    const p = await runSecurely(["proxy:srve"]);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("unknown command 'proxy:srve' — did you mean 'proxy:serve'?");
    const r = await runSecurely(["config:chek"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'config:chek' — did you mean 'config:check'?");
  });

  test("unknown flag exits 2 naming it; missing positional exits 2", async () => {
    const r = await runSecurely(["store:backup", "x.db", "--forse"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown flag '--forse' for store:backup — did you mean '--force'?");
    const m = await runSecurely(["config:get"]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain("missing argument <KEY>");
  });

  test("config:check / -t: exit 0 when valid, 1 listing every problem", async () => {
    const ok = tempProject("threads: 2\n");
    expect((await runSecurely(["config:check"], { env: ok.env })).code).toBe(0);
    expect((await runSecurely(["-t", "-c", ok.config])).code).toBe(0);
    const bad = tempProject("threads: zero\nmetrics:\n  listen: nowhere\n  enabld: true\n");
    const r = await runSecurely(["-t"], { env: bad.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('securely.config.yaml:5 threads: expected an integer, got "zero"');
    expect(r.stderr).toContain('securely.config.yaml:7 metrics.listen: expected host:port, got "nowhere"');
    expect(r.stderr).toContain("securely.config.yaml:8 metrics.enabld: unknown key — did you mean 'enabled'?");
    expect(r.stderr).toContain("config is invalid (3 problems)");
    const j = await runSecurely(["config:check", "--json"], { env: bad.env });
    expect(JSON.parse(j.stdout).problems).toHaveLength(3);
  });

  test("config:get and config:show resolve env overrides; SECURELY_CONF and -c both work", async () => {
    const p = tempProject("threads: 2\n");
    expect((await runSecurely(["config:get", "threads"], { env: p.env })).stdout.trim()).toBe("2");
    expect((await runSecurely(["config:get", "threads", "-c", p.config])).stdout.trim()).toBe("2");
    const over = await runSecurely(["config:get", "metrics.listen"], { env: { ...p.env, SECURELY_METRICS__LISTEN: "127.0.0.1:9999" } });
    expect(over.stdout.trim()).toBe("127.0.0.1:9999");
    const show = JSON.parse((await runSecurely(["config:show", "--json"], { env: p.env })).stdout);
    expect(show.threads).toBe(2);
    expect(show.grace_period_seconds).toBe(300);
    const missing = await runSecurely(["config:get", "nope.nothing"], { env: p.env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("config key 'nope.nothing' is not set");
  });

  test("a missing -c file is one clear line", async () => {
    const r = await runSecurely(["config:show", "-c", "/nonexistent.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("securely: /nonexistent.yaml: config file not found — pass -c FILE or create securely.config.yaml");
  });

  test("store:info, store:backup (refuses to overwrite), store:check", async () => {
    const p = tempProject();
    const info = JSON.parse((await runSecurely(["store:info", "--json"], { env: p.env })).stdout);
    expect(info.journal_mode).toBe("wal");
    expect(info.tables.map((t: any) => t.table)).toContain("core_migrations");
    const dest = join(p.dir, "backup.db");
    const b = await runSecurely(["store:backup", dest], { env: p.env });
    expect(b.code).toBe(0);
    expect(b.stdout).toContain("backed up");
    const again = await runSecurely(["store:backup", dest], { env: p.env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
    expect((await runSecurely(["store:backup", dest, "--force"], { env: p.env })).code).toBe(0);
    const check = await runSecurely(["store:check", "--json"], { env: p.env });
    expect(JSON.parse(check.stdout)).toEqual({ ok: true, problems: [] });
  });

  test("store:check on a corrupted file fails clearly and never overwrites it", async () => {
    const p = tempProject();
    const db = join(p.dir, "store.db");
    writeFileSync(db, "this is not a database".repeat(100));
    const r = await runSecurely(["store:check"], { env: p.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/store|database/i);
    expect(await Bun.file(db).text()).toStartWith("this is not a database");
  });
});
