import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, eventually, startSecurely, tempDir } from "../harness.ts";
import { settingsProject } from "./project.ts";

describe("settings hooks", () => {
  test("a run hook gets the changed keys that match its globs; unmatched and unchanged keys fire nothing", async () => {
    const out = join(tempDir(), "hook.out");
    const yaml = `settings:\n  hooks:\n    - match: ["mail.*"]\n      run: 'printf "%s|%s\\n" "$SECURELY_CHANGED_KEYS" "$SECURELY_SETTINGS_ENV" >> ${out}'\n`;
    const q = settingsProject(yaml);
    await q.ok(["settings:set", "mail.host=h", "mail.smtp.port=25", "other=x"]);
    await q.ok(["settings:set", "mail.host=h"]); // unchanged: no hook
    await q.ok(["settings:set", "other=y"]); // no match
    expect((await q.run(["settings:unset", "--env", "staging", "mail.host"])).code).toBe(1); // not in staging: nothing changes
    await q.ok(["settings:set", "--env", "staging", "mail.host=s"]);
    expect(readFileSync(out, "utf8")).toBe("mail.host,mail.smtp.port|\nmail.host|staging\n");
  });

  test("a failing hook is reported with its exit code, exit 3, and the setting stays written", async () => {
    const p = settingsProject(`settings:\n  hooks:\n    - match: ["*"]\n      run: "exit 5"\n`);
    const r = await p.run(["settings:set", "a=1"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('set a\nhook #1 run "exit 5": FAILED (exited with code 5)\n');
    expect(r.stderr).toContain('settings hook #1 (run "exit 5") failed: exited with code 5; the settings stay written');
    expect(await p.ok(["settings:get", "a"])).toBe("1\n");
  });

  test("a run hook past its timeout is killed and reported", async () => {
    const p = settingsProject(`settings:\n  hooks:\n    - match: ["*"]\n      run: "sleep 20"\n      timeout: 500ms\n`);
    const r = await p.run(["settings:set", "a=1"]);
    expect([r.code, r.stdout]).toEqual([3, 'set a\nhook #1 run "sleep 20": FAILED (timed out after 0.5 s and was killed)\n']);
  });

  test("a reload hook sends SIGHUP to the process in pid_file", async () => {
    const p = settingsProject(`settings:\n  hooks:\n    - match: ["proxy.*"]\n      reload: true\n`);
    const pidFile = join(p.dir, "securely.pid"); // the top-level pid_file tempProject writes
    const log = join(p.dir, "reloads.log");
    const daemon = Bun.spawn([BUN, join(import.meta.dir, "fixtures/daemon-fixture.ts"), pidFile, log], { stdout: "pipe", stderr: "inherit" });
    try {
      await eventually(() => existsSync(pidFile));
      const r = JSON.parse(await p.ok(["settings:set", "proxy.upstream=10.0.0.1:80", "--json"]));
      expect(r.hooks).toEqual([{ hook: 1, what: `reload ${pidFile} (SIGHUP)`, keys: ["proxy.upstream"], ok: true }]);
      await eventually(() => existsSync(log) && readFileSync(log, "utf8") === "reloaded\n");
    } finally {
      daemon.kill("SIGKILL");
      await daemon.exited;
    }
    // the daemon is gone: a stale pid file is a reported failure, the setting is still written
    const stale = await p.run(["settings:set", "proxy.upstream=10.0.0.2:80"]);
    expect(stale.code).toBe(3);
    expect(stale.stdout).toContain(`FAILED (process ${readFileSync(pidFile, "utf8").trim()} from ${pidFile} is not running (stale pid file))`);
    expect(await p.ok(["settings:get", "proxy.upstream"])).toBe("10.0.0.2:80\n");
  });

  test("a reload hook makes a running `securely serve` reload its config, which reads the new setting", async () => {
    const p = settingsProject(`metrics:\n  listen: 127.0.0.1:0\ngreeting: \${GREETING:-none}\nsettings:\n  hooks:\n    - match: ["GREETING"]\n      reload: true\n`);
    const pidFile = join(p.dir, "securely.pid");
    const server = await startSecurely(["serve"], { env: p.env });
    try {
      await eventually(() => existsSync(pidFile));
      const r = JSON.parse(await p.ok(["settings:set", "GREETING=hello", "--json"]));
      expect(r.hooks).toEqual([{ hook: 1, what: `reload ${pidFile} (SIGHUP)`, keys: ["GREETING"], ok: true }]);
      await server.waitFor(/SIGHUP: reloading the config/);
      await server.waitFor(/reload: applied/);
    } finally {
      await server.stop();
    }
  });

  test("an invalid hook is a config error naming the key path", async () => {
    const p = settingsProject(`settings:\n  hooks:\n    - match: ["a"]\n      run: "true"\n      reload: true\n    - match: []\n      run: "true"\n`);
    const r = await p.run(["config:check"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("securely.config.yaml:7 settings.hooks[0]: set either run or reload, not both");
    expect(r.stderr).toContain("settings.hooks[1].match: needs at least one glob");
  });
});
