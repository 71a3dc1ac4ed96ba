/** proxy:check finds missing or garbage files before serve would. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../harness.ts";

describe("bad input (proxy)", () => {
  test("a missing listener certificate fails proxy:check", async () => {
    const { env, dir } = tempProject(`proxy:\n  listen: [{addr: 127.0.0.1:0, tls: {enabled: true, certs: [{cert: nope.pem, key: nope-key.pem}]}}]\n  routes: [{match: {path: /}, respond: {status: 200}}]\n`);
    const r = await runSecurely(["proxy:check"], { env });
    expect(r.stderr).toBe(`securely: proxy.listen 127.0.0.1:0: tls.certs[0].cert: cannot read ${join(dir, "nope.pem")} (ENOENT) — check the path (relative to the config file's folder)\n`);
    expect(r.code).toBe(1);
  });

  test("a listener certificate that is not PEM fails proxy:check", async () => {
    const { env, dir } = tempProject(`proxy:\n  listen: [{addr: 127.0.0.1:0, tls: {enabled: true, certs: [{cert: junk.pem, key: junk.pem}]}}]\n  routes: [{match: {path: /}, respond: {status: 200}}]\n`);
    writeFileSync(join(dir, "junk.pem"), "garbage\n");
    const r = await runSecurely(["proxy:check"], { env });
    expect(r.stderr).toBe(`securely: proxy.listen 127.0.0.1:0: tls.certs[0].cert: ${join(dir, "junk.pem")} is not a PEM certificate — securely tls:cert HOST writes a matching pair\n`);
    expect(r.code).toBe(1);
  });

  test("a missing error page and a missing upstream CA file name their keys", async () => {
    const page = tempProject(`proxy:\n  upstreams: {app: {servers: [{addr: 127.0.0.1:1}]}}\n  routes: [{match: {path: /}, upstream: app, error_pages: {502: nope.html}}]\n`);
    const r1 = await runSecurely(["proxy:check"], { env: page.env });
    expect(r1.stderr).toBe(`securely: proxy route route-0: error_pages.502: cannot read ${join(page.dir, "nope.html")} (ENOENT) — check the path (relative to the config file's folder)\n`);
    expect(r1.code).toBe(1);
    const ca = tempProject(`proxy:\n  upstreams: {app: {servers: [{addr: 127.0.0.1:1}], tls: {enabled: true, ca_file: nope.pem}}}\n  routes: [{match: {path: /}, upstream: app}]\n`);
    const r2 = await runSecurely(["proxy:check"], { env: ca.env });
    expect(r2.stderr).toBe(`securely: proxy.upstreams.app.tls.ca_file: cannot read ${join(ca.dir, "nope.pem")} (ENOENT) — check the path (relative to the config file's folder)\n`);
    expect(r2.code).toBe(1);
  });

  test("max_header_size above 1m fails proxy:check, naming the key, the file's line and the bound", async () => {
    const { env } = tempProject(`proxy:\n  max_header_size: 2m\n  routes: [{match: {path: /}, respond: {status: 200}}]\n`);
    const r = await runSecurely(["proxy:check"], { env });
    expect(r.stderr).toMatch(/^securely: securely\.config\.yaml:\d+ proxy\.max_header_size: expected at most 1048576, got "2m"\n$/);
    expect(r.code).toBe(1);
  });
});
