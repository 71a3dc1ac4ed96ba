import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { App } from "../../src/core/app.ts";
import { certificateFor, TlsError } from "../../src/tls/index.ts";
import { tlsModule } from "../../src/tls/index.ts";
import { retireCa } from "../../src/tls/ca.ts";
import { BUN, FrozenClock, tempProject } from "../harness.ts";

function appFor(yaml = "", clock = new FrozenClock(Date.now())) {
  const p = tempProject(yaml);
  return { app: new App({ modules: [tlsModule], configPath: p.config, env: {}, clock, logLevel: "silent" }), dir: p.dir, clock };
}

describe("certificateFor", () => {
  test("issues a certificate for the hosts, signed by a CA it creates beside the store", async () => {
    const { app, dir } = appFor();
    const b = await certificateFor(app, ["App.Test", "*.app.test", "127.0.0.1", "::1"]);
    expect(b.hosts).toEqual(["app.test", "*.app.test", "127.0.0.1", "::1"]);
    const leaf = new X509Certificate(b.cert);
    const ca = new X509Certificate(b.ca);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkHost("app.test")).toBe("app.test");
    expect(leaf.checkHost("x.app.test")).toBe("*.app.test");
    expect(leaf.checkHost("other.test")).toBeUndefined();
    expect(leaf.checkIP("::1")).toBe("::1");
    expect(leaf.checkPrivateKey(require("node:crypto").createPrivateKey(b.key))).toBe(true);
    expect(b.key).toContain("BEGIN PRIVATE KEY");
    expect(leaf.serialNumber.toLowerCase()).toBe(b.serial);
    expect(b.renewAt.getTime()).toBeLessThan(b.notAfter.getTime());
    expect(existsSync(join(dir, "tls/ca.pem"))).toBe(true);
    expect(statSync(join(dir, "tls")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "tls/ca-key.pem")).mode & 0o777).toBe(0o600);
    app.close();
  });

  test("returns the cached certificate for the same hosts in any order, until it is close to expiry", async () => {
    const { app, clock } = appFor("tls:\n  days: 90\n  renew_before_days: 10\n");
    const a = await certificateFor(app, ["a.test", "b.test"]);
    const again = await certificateFor(app, ["B.test", "a.test"]);
    expect(again.serial).toBe(a.serial);
    expect(again.key).toBe(a.key);
    clock.advance(81 * 86_400_000); // inside the last 10 days
    const renewed = await certificateFor(app, ["a.test", "b.test"]);
    expect(renewed.serial).not.toBe(a.serial);
    expect(renewed.notAfter.getTime()).toBeGreaterThan(a.notAfter.getTime());
    const rows = app.store().db.query("SELECT COUNT(*) AS n FROM tls_certificates").get() as { n: number };
    expect(rows.n).toBe(1);
    app.close();
  });

  test("a different host set gets its own certificate", async () => {
    const { app } = appFor();
    const a = await certificateFor(app, ["a.test"]);
    const b = await certificateFor(app, ["b.test"]);
    expect(a.serial).not.toBe(b.serial);
    expect(a.ca).toBe(b.ca);
    app.close();
  });

  test("rejects an invalid host with a TlsError naming it, and stores nothing", async () => {
    const { app } = appFor();
    const err = await certificateFor(app, ["ok.test", "bad host"]).catch((e) => e);
    expect(err).toBeInstanceOf(TlsError);
    expect(err.message).toContain("invalid host 'bad host'");
    expect(await certificateFor(app, []).catch((e) => e.code)).toBe("TLS_NO_HOSTS");
    const n = app.store().db.query("SELECT COUNT(*) AS n FROM tls_certificates").get() as { n: number };
    expect(n.n).toBe(0);
    app.close();
  });

  test("a new CA means new certificates: the cached one from the old CA is not handed out", async () => {
    const { app, dir } = appFor();
    const a = await certificateFor(app, ["a.test"]);
    retireCa(join(dir, "tls"), Date.now());
    const b = await certificateFor(app, ["a.test"]);
    expect(b.ca).not.toBe(a.ca);
    expect(b.serial).not.toBe(a.serial);
    expect(new X509Certificate(b.cert).checkIssued(new X509Certificate(b.ca))).toBe(true);
    app.close();
  });

  test("a broken CA key is an error, not a silently replaced CA", async () => {
    const { app, dir } = appFor();
    await certificateFor(app, ["a.test"]);
    require("node:fs").writeFileSync(join(dir, "tls/ca-key.pem"), "junk");
    const err = await certificateFor(app, ["a.test"]).catch((e) => e);
    expect(err.code).toBe("TLS_UNREADABLE");
    app.close();
  });

  test("processes starting together share one CA and one certificate", async () => {
    const p = tempProject();
    // migrate first: core's migrator reads the schema version outside its write lock, so
    // concurrent first opens can race (reported to the lead); the race under test is the CA's
    new App({ modules: [tlsModule], configPath: p.config, env: {} }).store().close();
    const procs = Array.from({ length: 4 }, () =>
      Bun.spawn([BUN, join(import.meta.dir, "certificate-for-fixture.ts"), p.config], { stdout: "pipe", stderr: "pipe", timeout: 20_000 }),
    );
    const outs = await Promise.all(procs.map(async (pr) => ({ out: await new Response(pr.stdout).text(), err: await new Response(pr.stderr).text(), code: await pr.exited })));
    for (const o of outs) expect(o).toMatchObject({ code: 0, err: "" });
    const results = outs.map((o) => JSON.parse(o.out));
    expect(new Set(results.map((r) => r.ca)).size).toBe(1);
    expect(new Set(results.map((r) => r.serial)).size).toBe(1);
  });
});
