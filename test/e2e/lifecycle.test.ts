/**
 * The lifecycle through the compiled binary (its self re-exec differs from `bun main.ts`): daemon
 * with readiness, status, a zero-downtime upgrade under load, and a clean stop. The binary is
 * built from the current sources into a temp folder first (about 2 s).
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, eventually, MAIN, tempDir, tempProject } from "../harness.ts";
import { freePort, pidsMatching, track } from "../core/server/helpers.ts";
import { runLoad } from "../core/server/load.ts";
import { tcpMigrateReq } from "../../src/core/server/primary.ts";

setDefaultTimeout(60_000);

let bin = "";

/** Run the built binary to completion (the harness's SECURELY_BIN is read from the test's own env). */
async function runBinary(args: string[]): Promise<{ code: number; stdout: string }> {
  const proc = Bun.spawn([bin, ...args], { env: { ...process.env, SECURELY_LOG_LEVEL: "warn" }, stdout: "pipe", stderr: "inherit" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout };
}
beforeAll(async () => {
  bin = join(tempDir("securely-bin-"), "securely");
  const build = Bun.spawn([BUN, "build", "--compile", MAIN, "--outfile", bin], { stdout: "ignore", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
});

describe("securely binary: lifecycle", () => {
  test("serve -d waits for readiness; SIGQUIT + serve -u -d upgrades under load with no failed request; SIGTERM leaves nothing", async () => {
    const port = await freePort();
    const p = tempProject(`daemon_wait_for_ready: true\ncache:\n  prune_interval: 0\nmetrics:\n  listen: 127.0.0.1:${port}\n`);
    track(p.dir);
    const start = await runBinary(["serve", "-d", "-c", p.config]);
    expect(start.code).toBe(0);
    // the daemon is the binary itself, re-executed (no bun, no script)
    const daemonCmd = readFileSync(`/proc/${Number(readFileSync(join(p.dir, "securely.pid"), "utf8"))}/cmdline`, "utf8").split("\0");
    expect(daemonCmd[0]).toBe(bin);
    expect(start.stdout).toContain(`metrics listening on http 127.0.0.1:${port}`);
    const oldPid = Number(readFileSync(join(p.dir, "securely.pid"), "utf8"));
    expect(start.stdout).toContain(`(pid ${oldPid})`);

    const status = await runBinary(["status", "--json", "-c", p.config]);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: oldPid, instance: { state: "running" } });

    const load = runLoad({ port, path: "/health", keepAliveClients: 3, freshClients: 2, thinkMs: 2, maxRequests: 20_000, maxMs: 20_000 });
    await eventually(() => load.stats.ok > 50);
    process.kill(oldPid, "SIGQUIT");
    const up = await runBinary(["serve", "-u", "-d", "-c", p.config]);
    expect(up.code).toBe(0);
    const newPid = Number(readFileSync(join(p.dir, "securely.pid"), "utf8"));
    expect(newPid).not.toBe(oldPid);
    await eventually(() => !pidsMatching(p.dir).includes(oldPid), 10_000);
    const before = load.stats.ok;
    await eventually(() => load.stats.ok > before + 50);
    const stats = await load.stop();
    if (stats.failed) console.log(JSON.stringify(stats));
    // see test/core/server/upgrade.test.ts: without tcp_migrate_req a queued new connection may be reset
    const tolerated = tcpMigrateReq() === "0" ? stats.errors.filter((e) => e.startsWith("fresh: ECONNRESET")).length : 0;
    expect(tolerated).toBeLessThanOrEqual(2);
    expect({ failed: stats.failed - tolerated, refused: stats.refused }).toEqual({ failed: 0, refused: 0 });

    process.kill(newPid, "SIGTERM");
    await eventually(() => pidsMatching(p.dir).length === 0, 10_000);
    const after = await runBinary(["status", "-c", p.config]);
    expect(after.code).toBe(3);
  });
});
