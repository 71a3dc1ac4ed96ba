/**
 * The compiled binary: built once here from the current source, then run with a PATH that holds
 * neither bun nor node, from a folder with no node_modules — as an operator's server would.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { BUN, ROOT, runSecurely, startSecurely, tempDir, tempProject } from "../harness.ts";

let bin: string;
let emptyPath: string;

beforeAll(async () => {
  const out = join(tempDir("securely-bin-"), "securely");
  const build = Bun.spawn([BUN, "build", "--compile", join(ROOT, "src/main.ts"), "--outfile", out], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  expect(await build.exited).toBe(0);
  // run from a folder without node_modules, a copy of the file as an operator would deploy it
  const deploy = tempDir("securely-deploy-");
  bin = join(deploy, "securely");
  copyFileSync(out, bin);
  emptyPath = tempDir("securely-path-");
}, 120_000);

const env = () => ({ PATH: emptyPath, HOME: emptyPath, SECURELY_BIN: bin });

describe("dist binary", () => {
  test("runs without bun or node on PATH", async () => {
    expect(existsSync(join(emptyPath, "bun"))).toBe(false);
    const r = await runSecurely(["version"], { env: env(), cwd: emptyPath });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^securely \d+\.\d+\.\d+ \(bun/);
    const help = await runSecurely(["--help"], { env: env(), cwd: emptyPath });
    expect(help.stdout).toContain("config:check");
  });

  test("serve starts the metrics listener, answers /metrics and /health, stops on SIGTERM", async () => {
    const p = tempProject("metrics:\n  listen: 127.0.0.1:0\n");
    const s = await startSecurely(["serve", "-c", p.config], { env: env(), cwd: p.dir });
    const port = s.port("metrics");
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as any).services.metrics.ready).toBe(true);
    const m = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(m.headers.get("content-type")).toContain("text/plain");
    expect(await s.stop("SIGTERM")).toBe(0);
    expect(existsSync(join(p.dir, "store.db"))).toBe(true);
  });
});
