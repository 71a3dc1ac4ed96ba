/** Only --dry-run and foreign platforms here: the tests never touch this machine's trust stores. */
import { describe, expect, test } from "bun:test";
import { runSecurely, tempProject } from "../../harness.ts";

describe("tls:trust / tls:untrust", () => {
  test("without a CA: a clear error, and no CA is created just to trust it", async () => {
    const p = tempProject();
    const r = await runSecurely(["tls:trust", "--dry-run"], { env: p.env });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`securely: no local CA in ${p.dir}/tls — create it with \`securely tls:ca\``);
  });

  test("--dry-run prints the commands for this machine and the NODE_EXTRA_CA_CERTS note", async () => {
    const p = tempProject();
    await runSecurely(["tls:ca"], { env: p.env });
    const r = await runSecurely(["tls:trust", "--dry-run", "--json"], { env: p.env });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.dry_run).toBe(true);
    expect(plan.ca_path).toBe(`${p.dir}/tls/ca.pem`);
    expect(plan.notes).toContain(`Node.js and Bun do not read the system store: export NODE_EXTRA_CA_CERTS=${p.dir}/tls/ca.pem`);
    if (plan.store !== "unknown") expect(plan.commands[0]).toContain(`${p.dir}/tls/ca.pem`);
    const human = await runSecurely(["tls:trust", "--dry-run"], { env: p.env });
    expect(human.stdout).toStartWith(`# trust ${p.dir}/tls/ca.pem (${plan.platform}, ${plan.store})`);
  });

  test("another platform is always a dry run: macOS keychain commands", async () => {
    const p = tempProject();
    await runSecurely(["tls:ca"], { env: p.env });
    const trust = await runSecurely(["tls:trust", "--platform", "macos"], { env: p.env });
    expect(trust.stdout).toContain(`security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${p.dir}/tls/ca.pem`);
    const untrust = await runSecurely(["tls:untrust", "--platform", "macos", "--json"], { env: p.env });
    expect(JSON.parse(untrust.stdout).commands[0]).toMatch(/^(sudo )?security remove-trusted-cert -d /);
  });

  test("an unknown platform is a usage error", async () => {
    const p = tempProject();
    const r = await runSecurely(["tls:trust", "--platform", "beos", "--dry-run"], { env: p.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--platform must be linux, macos or windows, got 'beos'");
  });
});
