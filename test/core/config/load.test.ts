import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../src/core/config/load.ts";
import { list, map, obj, val } from "../../../src/core/config/schema.ts";
import { defineModule } from "../../../src/core/module.ts";
import { tempDir } from "../../harness.ts";

const demo = defineModule({
  name: "demo",
  description: "test module",
  commands: [],
  config: {
    demo: obj({
      threads: val("integer|min:1", 2, "workers"),
      password: val("string", undefined, "secret", { secret: true }),
      upstreams: map(obj({ servers: list(val("host_port")) })),
    }),
  },
});

function load(yaml: string, env: Record<string, string> = {}, lookupSetting?: (n: string) => string | undefined) {
  const dir = tempDir();
  const path = join(dir, "securely.config.yaml");
  writeFileSync(path, yaml);
  return loadConfig({ path, modules: [demo], env, lookupSetting });
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split("\n");
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("config loader", () => {
  test("Pingora server keys default exactly as ServerConf", () => {
    const c = load("");
    expect(c.get("threads")).toBe(1);
    expect(c.get("grace_period_seconds")).toBe(300);
    expect(c.get("graceful_shutdown_timeout_seconds")).toBe(5);
    expect(c.get("upstream_keepalive_pool_size")).toBe(128);
    expect(c.get("max_retries")).toBe(16);
    expect(c.get("work_stealing")).toBe(true);
    expect(c.get("daemon_ready_timeout_seconds")).toBe(600);
    expect(c.get("daemon_notify_timeout_seconds")).toBe(60);
    expect(c.get("client_bind_to_ipv4")).toEqual([]);
    expect(c.get("demo.threads")).toBe(2);
  });

  test("unknown top-level keys are kept, unknown section keys are errors with did-you-mean", () => {
    expect(load("my_extension: {a: 1}\n").get("my_extension")).toEqual({ a: 1 });
    expect(problems(() => load("demo:\n  thread: 3\n"))).toEqual([
      "securely.config.yaml:2 demo.thread: unknown key — did you mean 'threads'?",
    ]);
  });

  test("every error names file, line, key path, expected and found — all at once", () => {
    const yaml = ["threads: many", "demo:", "  threads: 0", "  upstreams:", "    api:", "      servers:", "        - 10.0.0.1:80", "        - localhost", ""].join("\n");
    expect(problems(() => load(yaml))).toEqual([
      'securely.config.yaml:1 threads: expected an integer, got "many"',
      "securely.config.yaml:3 demo.threads: expected at least 1, got 0",
      'securely.config.yaml:8 demo.upstreams.api.servers[1]: expected host:port, got "localhost"',
    ]);
  });

  test("invalid YAML reports the line", () => {
    const msgs = problems(() => load("demo:\n  threads: [1,\n"));
    expect(msgs[0]).toMatch(/^securely\.config\.yaml:\d+: invalid YAML/);
  });

  test("a missing file is a clear error", () => {
    expect(() => loadConfig({ path: "/nonexistent/securely.config.yaml", modules: [], env: {} })).toThrow("config file not found");
  });

  test("${NAME} and ${NAME:-default}: env, then settings, then default", () => {
    const yaml = "demo:\n  threads: ${THREADS:-4}\n  password: ${DB_PASSWORD}\n";
    expect(load(yaml, { DB_PASSWORD: "env" }).get("demo.password")).toBe("env");
    expect(load(yaml, {}, (n) => (n === "DB_PASSWORD" ? "from-settings" : undefined)).get("demo.password")).toBe("from-settings");
    expect(load(yaml, { DB_PASSWORD: "x" }).get("demo.threads")).toBe(4);
    expect(load(yaml, { DB_PASSWORD: "x", THREADS: "8" }).get("demo.threads")).toBe(8);
    expect(problems(() => load(yaml))).toEqual([
      "securely.config.yaml:3 demo.password: ${DB_PASSWORD} is not set in the environment or settings and has no default (write ${DB_PASSWORD:-value})",
    ]);
    expect(load("demo:\n  password: $${LITERAL}\n").get("demo.password")).toBe("${LITERAL}");
  });

  test("SECURELY_A__B overrides", () => {
    const c = load("demo:\n  threads: 2\n", { SECURELY_DEMO__THREADS: "6", SECURELY_THREADS: "9", SECURELY_STORE__PATH: "/tmp/x.db" });
    expect(c.get("demo.threads")).toBe(6);
    expect(c.get("threads")).toBe(1); // no "__": not an override (SECURELY_KEY etc. live there)
    expect(c.get("store.path")).toBe("/tmp/x.db");
    expect(problems(() => load("", { SECURELY_DEMO__THREADS: "zero" }))).toEqual(['securely.config.yaml demo.threads: expected an integer, got "zero"']);
  });

  test("masked() hides secrets", () => {
    const c = load("demo:\n  password: hunter2\n");
    expect(c.get("demo.password")).toBe("hunter2");
    expect(c.masked().demo.password).toBe("********");
    expect(JSON.stringify(c.masked())).not.toContain("hunter2");
  });
});

test("a secret setting reached through ${NAME} is masked by masked() and never echoed in an error", () => {
  const secretLookup = (n: string) => (n === "TOKEN" ? { value: "s3cr3t-value", secret: true } : n === "PLAIN" ? { value: "plain", secret: false } : undefined);
  const c = load("demo:\n  password: ${PLAIN}\nmy_ext:\n  token: Bearer ${TOKEN}\n", {}, secretLookup as any);
  expect(c.get("my_ext.token")).toBe("Bearer s3cr3t-value");
  expect(c.masked().my_ext.token).toBe("********");
  expect(c.masked().demo.password).toBe("********"); // schema-marked secret
  expect(JSON.stringify(c.masked())).not.toContain("s3cr3t");
  const msgs = problems(() => load("demo:\n  threads: ${TOKEN}\n", {}, secretLookup as any));
  expect(msgs).toEqual(["securely.config.yaml:2 demo.threads: expected an integer, got (a secret setting's value)"]);
});
