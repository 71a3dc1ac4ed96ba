import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../../harness.ts";
import { selfCommand, withoutDaemonFlag } from "../../../src/core/server/self-exec.ts";
import { assignPorts, portOf, resetPorts, sharedPort } from "../../../src/core/server/ports.ts";
import { backoffMs, BACKOFF_MAX_MS } from "../../../src/core/server/worker-group.ts";
import { foreignListeners, parseListen } from "../../../src/core/server/port-check.ts";
import { isAlive, readPid, removePidIfOwned, runningPid, writePid } from "../../../src/core/server/pid-file.ts";
import { statusPath } from "../../../src/core/server/status-file.ts";
import { formatDuration } from "../../../src/core/server/commands/status.ts";
import { renderUnit } from "../../../src/core/server/commands/systemd-unit.ts";
import { orderByDependencies } from "../../../src/core/server/run-services.ts";
import type { Service } from "../../../src/core/server/service.ts";

describe("selfCommand", () => {
  test("a compiled binary re-executes itself alone; bun re-executes bun + the script", () => {
    expect(selfCommand(["bun", "/$bunfs/root/securely", "serve"], "/usr/local/bin/securely")).toEqual(["/usr/local/bin/securely"]);
    expect(selfCommand(["/x/bun", "/repo/src/main.ts", "serve"], "/x/bun")).toEqual(["/x/bun", "/repo/src/main.ts"]);
  });
  test("withoutDaemonFlag drops -d, --daemon and the d of a short cluster", () => {
    expect(withoutDaemonFlag(["serve", "-d", "-c", "a.yaml"])).toEqual(["serve", "-c", "a.yaml"]);
    expect(withoutDaemonFlag(["serve", "--daemon", "-u"])).toEqual(["serve", "-u"]);
    expect(withoutDaemonFlag(["serve", "-ud"])).toEqual(["serve", "-u"]);
    expect(withoutDaemonFlag(["serve", "--", "-d"])).toEqual(["serve", "--", "-d"]);
  });
});

describe("sharedPort", () => {
  test("port 0 becomes the port assigned to that service's listener; fixed ports never change", () => {
    resetPorts();
    expect(sharedPort("proxy", 0)).toBe(0);
    assignPorts("proxy", ["http 127.0.0.1:8080", "https [::1]:8443"]);
    expect(sharedPort("proxy", 0)).toBe(8080);
    expect(sharedPort("proxy", 0, 1)).toBe(8443);
    expect(sharedPort("proxy", 9000)).toBe(9000);
    expect(sharedPort("dns", 0)).toBe(0);
    expect(portOf("unix /tmp/x.sock")).toBeUndefined();
    resetPorts();
  });
});

describe("worker restart backoff", () => {
  test("doubles from 100 ms and is capped at 5 s", () => {
    expect([1, 2, 3, 4].map(backoffMs)).toEqual([100, 200, 400, 800]);
    expect(backoffMs(30)).toBe(BACKOFF_MAX_MS);
  });
});

describe("port check", () => {
  test("parseListen reads the protocol and port of a listening line", () => {
    expect(parseListen("http 127.0.0.1:8080")).toEqual({ proto: "tcp", port: 8080 });
    expect(parseListen("udp [::1]:5353")).toEqual({ proto: "udp", port: 5353 });
    expect(parseListen("unix /run/x.sock")).toBeUndefined();
  });
  test("our own socket is not a conflict; another process's on the same port is", async () => {
    using own = Bun.serve({ hostname: "127.0.0.1", port: 0, reusePort: true, fetch: () => new Response("") });
    expect(foreignListeners([`http 127.0.0.1:${own.port}`], [process.pid])).toEqual([]);
    const clash = foreignListeners([`http 127.0.0.1:${own.port}`], [1]);
    expect(clash).toEqual([{ listen: `http 127.0.0.1:${own.port}`, pid: process.pid }]);
  });
});

describe("pid file", () => {
  test("written atomically, removed only by its owner, stale pids are not running", () => {
    const f = join(tempDir(), "run/securely.pid");
    writePid(f, 4242);
    expect(readPid(f)).toBe(4242);
    expect(removePidIfOwned(f, 1)).toBe(false);
    expect(readPid(f)).toBe(4242);
    expect(removePidIfOwned(f, 4242)).toBe(true);
    expect(readPid(f)).toBeUndefined();
    writePid(f, 2 ** 22 + 1); // above pid_max: never alive
    expect(runningPid(f)).toBeUndefined();
    expect(isAlive(process.pid)).toBe(true);
    expect(statusPath("/run/securely.pid")).toBe("/run/securely.status.json");
  });
});

describe("status", () => {
  test("formatDuration", () => {
    expect(formatDuration(5)).toBe("5s");
    expect(formatDuration(3725)).toBe("1h 2m 5s");
    expect(formatDuration(90061)).toBe("1d 1h 1m");
  });
});

describe("systemd:unit", () => {
  test("follows Pingora's recipe: forking, pid file, reload = SIGQUIT then serve -u -d", () => {
    const unit = renderUnit({ exec: ["/usr/local/bin/securely"], config: "/etc/securely/securely.config.yaml", pidFile: "/run/securely.pid", stopTimeoutS: 310, description: "securely", waitForReady: true });
    expect(unit).toContain("Type=forking\nPIDFile=/run/securely.pid\n");
    expect(unit).toContain("ExecStart=/usr/local/bin/securely serve -d -c /etc/securely/securely.config.yaml\n");
    expect(unit).toContain("ExecReload=/bin/kill -QUIT $MAINPID\nExecReload=/usr/local/bin/securely serve -u -d -c /etc/securely/securely.config.yaml\n");
    expect(unit).toContain("TimeoutStopSec=310\n");
    expect(unit).not.toContain("daemon_wait_for_ready");
    const spaced = renderUnit({ exec: ["/opt/my dir/securely"], config: "/etc/s.yaml", pidFile: "/run/s.pid", stopTimeoutS: 10, description: "s", waitForReady: false });
    expect(spaced).toContain('ExecStart="/opt/my dir/securely" serve -d');
    expect(spaced).toContain("set `daemon_wait_for_ready: true`");
  });
});

describe("orderByDependencies", () => {
  const svc = (name: string, dependsOn?: string[]): Service => ({ name, kind: "background", dependsOn, start: async () => {}, stop: async () => {} });
  test("a service starts after the ones it depends on; unknown names are ignored; cycles are named", () => {
    expect(orderByDependencies([svc("proxy", ["tls", "cache"]), svc("tls"), svc("metrics")]).map((s) => s.name)).toEqual(["tls", "proxy", "metrics"]);
    expect(() => orderByDependencies([svc("a", ["b"]), svc("b", ["a"])])).toThrow("service dependency cycle: a → b → a");
  });
});
