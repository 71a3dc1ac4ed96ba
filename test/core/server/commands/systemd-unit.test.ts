import { describe, expect, test } from "bun:test";
import { renderUnit } from "../../../../src/core/server/commands/systemd-unit.ts";

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
