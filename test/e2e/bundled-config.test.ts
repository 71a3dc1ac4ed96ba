/**
 * `npm start` runs `securely serve` on the bundled securely.config.yaml: it must stay valid and
 * bring up every service it enables. Ports and paths are moved to temp ones through env overrides
 * (SECURELY_A__B), which also proves the overrides reach lists and top-level keys.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, runSecurely, startSecurely, tempDir } from "../harness.ts";

test("the bundled config is valid and serves proxy, dns, queue, schedule, cache and metrics", async () => {
  const dir = tempDir();
  const env = {
    SECURELY_CONF: join(ROOT, "securely.config.yaml"),
    SECURELY_STORE__PATH: join(dir, "store.db"),
    SECURELY__PID_FILE: join(dir, "securely.pid"),
    SECURELY__UPGRADE_SOCK: join(dir, "upgrade.sock"),
    SECURELY_METRICS__LISTEN: "127.0.0.1:0",
    SECURELY_PROXY__LISTEN: "[{addr: '127.0.0.1:0'}]",
    SECURELY_DNS__LISTEN: "['127.0.0.1:0']",
  };
  expect((await runSecurely(["-t"], { env })).code).toBe(0);
  const s = await startSecurely(["serve"], { env });
  expect(s.output()).toContain("securely ready (proxy, proxy.health, dns, queue, cache, schedule, metrics)");
  const res = await fetch(`http://127.0.0.1:${s.port("proxy")}/healthz`);
  expect(await res.text()).toBe("ok\n");
  const health = (await (await fetch(`http://127.0.0.1:${s.port("metrics")}/health`)).json()) as any;
  expect(health.status).toBe("ok");
  const dig = Bun.spawn(["dig", "+short", "@127.0.0.1", "-p", String(s.port("dns")), "app.test"], { stdout: "pipe" });
  expect((await new Response(dig.stdout).text()).trim()).toBe("127.0.0.1");
  expect(await s.stop("SIGTERM")).toBe(0);
});
