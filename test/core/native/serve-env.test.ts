/** serve-env.ts: `proxy:serve` re-executes itself once with the JSC options, as the same process. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { splitGlobals } from "../../../src/core/cli/run.ts";
import { commandOf, needsServeEnv, SERVE_ENV } from "../../../src/core/native/serve-env.ts";
import { basename } from "node:path";
import { BUN, startSecurely, tempProject } from "../../harness.ts";

const linux = process.platform === "linux";

const config = `metrics: { enabled: false }
proxy:
  listen: ["127.0.0.1:0"]
  routes:
    - respond: { status: 200, body: ok }
`;

/** The environment a running process has (NAME=value lines from /proc). */
function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, "latin1").split("\0")) {
    const i = kv.indexOf("=");
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

describe("commandOf", () => {
  test("finds the command after global flags and their values", () => {
    expect(commandOf(["proxy:serve", "-c", "x.yaml"])).toBe("proxy:serve");
    expect(commandOf(["-c", "serve.yaml", "--json", "proxy:serve"])).toBe("proxy:serve");
    expect(commandOf(["--log-level", "debug", "--conf=a.yaml", "serve"])).toBe("serve");
    expect(commandOf(["--json"])).toBeUndefined();
    expect(commandOf(["--", "serve"])).toBeUndefined();
  });

  test("agrees with the CLI's own parsing (it copies the global flags that take a value)", () => {
    const lines = [["proxy:serve"], ["-c", "serve", "proxy:serve"], ["--log-level", "warn", "serve", "-c", "x"], ["--json", "--conf=a", "settings:get", "K"], ["--conf", "proxy:serve", "dns:serve"]];
    for (const argv of lines) expect(commandOf(argv)).toBe(splitGlobals(argv, {}).argv[0]);
  });
});

describe("needsServeEnv", () => {
  test("serve and proxy:serve need it; other commands do not", () => {
    expect(needsServeEnv("serve", {})).toBe(true);
    expect(needsServeEnv("proxy:serve", {})).toBe(true);
    expect(needsServeEnv("settings:get", {})).toBe(false);
    expect(needsServeEnv(undefined, {})).toBe(false);
  });

  test("an option the operator set wins, and SECURELY_RUNTIME_DEFAULTS=1 turns it off", () => {
    expect(needsServeEnv("serve", { BUN_JSC_collectionTimerMaxPercentCPU: "0.2" })).toBe(false);
    expect(needsServeEnv("serve", { BUN_JSC_percentCPUPerMBForEdenTimer: "0.01" })).toBe(false);
    expect(needsServeEnv("serve", { SECURELY_RUNTIME_DEFAULTS: "1" })).toBe(false);
    expect(needsServeEnv("serve", { SECURELY_RUNTIME_DEFAULTS: "0" })).toBe(true);
  });
});

describe.if(linux)("proxy:serve", () => {
  test("runs with the options, as the process it was started as (same PID, name and arguments)", async () => {
    const p = tempProject(config);
    const s = await startSecurely(["proxy:serve"], { env: p.env });
    const pid = s.proc.pid;
    const env = environOf(pid);
    for (const [k, v] of Object.entries(SERVE_ENV)) expect(env[k]).toBe(v);
    // the variables it was given are all still there
    expect(env.SECURELY_CONF).toBe(p.config);
    // named after the file it was started by, not /proc/self/exe ("exe")
    expect(readFileSync(`/proc/${pid}/comm`, "utf8").trim()).toBe(basename(process.env.SECURELY_BIN || BUN).slice(0, 15));
    expect(readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0")).toContain("proxy:serve");
    expect(await (await fetch(`http://127.0.0.1:${s.port("proxy")}/`)).text()).toBe("ok");
    expect(await s.stop()).toBe(0);
  });

  test("keeps the operator's value and re-executes nothing when one is set", async () => {
    const p = tempProject(config);
    const s = await startSecurely(["proxy:serve"], { env: { ...p.env, BUN_JSC_collectionTimerMaxPercentCPU: "0.2" } });
    const env = environOf(s.proc.pid);
    expect(env.BUN_JSC_collectionTimerMaxPercentCPU).toBe("0.2");
    expect(env.BUN_JSC_percentCPUPerMBForEdenTimer).toBeUndefined();
    expect(await s.stop()).toBe(0);
  });

  test("SECURELY_RUNTIME_DEFAULTS=1 runs with the runtime's defaults", async () => {
    const p = tempProject(config);
    const s = await startSecurely(["proxy:serve"], { env: { ...p.env, SECURELY_RUNTIME_DEFAULTS: "1" } });
    const env = environOf(s.proc.pid);
    for (const k of Object.keys(SERVE_ENV)) expect(env[k]).toBeUndefined();
    expect(await s.stop()).toBe(0);
  });
});
