import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { App } from "../../src/core/app.ts";
import { tlsOptions } from "../../src/tls/config.ts";
import { tlsModule } from "../../src/tls/index.ts";
import { runSecurely, tempProject } from "../harness.ts";

describe("tls config section", () => {
  test("defaults: ECDSA P-256, 365-day leaves, 10-year CA, folder beside the store", () => {
    const p = tempProject();
    const app = new App({ modules: [tlsModule], configPath: p.config, env: {} });
    expect(tlsOptions(app)).toEqual({
      dir: join(p.dir, "tls"),
      days: 365,
      ca_days: 3650,
      key_type: "ecdsa_p256",
      ca_key_type: "ecdsa_p256",
      renew_before_days: 30,
      permitted_names: [],
    });
  });

  test("a relative dir resolves against the config file's folder", () => {
    const p = tempProject("tls:\n  dir: certs/local\n");
    const app = new App({ modules: [tlsModule], configPath: p.config, env: {} });
    expect(tlsOptions(app).dir).toBe(join(p.dir, "certs/local"));
  });

  test("bad values and unknown keys are reported with file:line and key path", async () => {
    const p = tempProject("tls:\n  key_type: dsa\n  days: 1000\n  renew_befor_days: 3\n");
    const r = await runSecurely(["config:check"], { env: p.env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("securely.config.yaml:8 tls.key_type: expected one of ecdsa_p256, ecdsa_p384, rsa_2048, rsa_3072, rsa_4096");
    expect(r.stderr).toContain("securely.config.yaml:9 tls.days: expected at most 825");
    expect(r.stderr).toContain("securely.config.yaml:10 tls.renew_befor_days: unknown key — did you mean 'renew_before_days'?");
  });
});
