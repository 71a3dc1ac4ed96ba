/**
 * The lifecycle through the compiled binary (its self re-exec differs from `bun main.ts`): daemon
 * with readiness, status, a zero-downtime upgrade under load, and a clean stop. The binary is
 * built from the current sources into a temp folder first (about 2 s).
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, eventually, MAIN, runSecurely, tempDir, tempProject } from "../harness.ts";
import { freePort, pidsMatching } from "../core/server/helpers.ts";
import { runLoad } from "../core/server/load.ts";

setDefaultTimeout(60_000);

let bin = "";
beforeAll(async () => {
  bin = join(tempDir("securely-bin-"), "securely");
  const build = Bun.spawn([BUN, "build", "--compile", MAIN, "--outfile", bin], { stdout: "ignore", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
});

describe("securely binary: lifecycle", () => {
  test("serve -d waits for readiness; SIGQUIT + serve -u -d upgrades under load with no failed request; SIGTERM leaves nothing", async () => {
    const port = await freePort();
    const p = tempProject(`daemon_wait_for_ready: true\nmetrics:\n  listen: 127.0.0.1:${port}\n`);
    const env = { SECURELY_BIN: bin };
    const start = await runSecurely(["serve", "-d", "-c", p.config], { env });
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(`metrics listening on http 127.0.0.1:${port}`);
    const oldPid = Number(readFileSync(join(p.dir, "securely.pid"), "utf8"));
    expect(start.stdout).toContain(`(pid ${oldPid})`);

    const status = await runSecurely(["status", "--json", "-c", p.config], { env });
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: oldPid, instance: { state: "running" } });

    const load = runLoad({ port, path: "/health", keepAliveClients: 3, freshClients: 2, thinkMs: 2, maxRequests: 20_000, maxMs: 20_000 });
    await eventually(() => load.stats.ok > 50);
    process.kill(oldPid, "SIGQUIT");
    const up = await runSecurely(["serve", "-u", "-d", "-c", p.config], { env });
    expect(up.code).toBe(0);
    const newPid = Number(readFileSync(join(p.dir, "securely.pid"), "utf8"));
    expect(newPid).not.toBe(oldPid);
    await eventually(() => !pidsMatching(p.dir).includes(oldPid), 10_000);
    const before = load.stats.ok;
    await eventually(() => load.stats.ok > before + 50);
    const stats = await load.stop();
    if (stats.failed) console.log(JSON.stringify(stats));
    expect({ failed: stats.failed, errors: stats.errors }).toEqual({ failed: 0, errors: [] });

    process.kill(newPid, "SIGTERM");
    await eventually(() => pidsMatching(p.dir).length === 0, 10_000);
    const after = await runSecurely(["status", "-c", p.config], { env });
    expect(after.code).toBe(3);
  });
});
