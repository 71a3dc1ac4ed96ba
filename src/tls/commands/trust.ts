import { UsageError, SecurelyError } from "../../core/errors.ts";
import { defineCommand, type CommandContext } from "../../core/module.ts";
import { loadCa } from "../ca.ts";
import { tlsOptions } from "../config.ts";
import { currentPlatform, shellLine, systemContext, trustPlan } from "../trust/plan.ts";
import type { Platform } from "../trust/types.ts";

const args = {
  "dry-run": { type: "boolean", description: "Print the commands instead of running them" },
  platform: { type: "string", description: "linux, macos or windows (default: this machine's)" },
} as const;

export const tlsTrust = defineCommand({
  name: "tls:trust",
  description: "Add the local CA to this machine's trust stores (system, and NSS for Firefox/Chromium on Linux)",
  args,
  run: (ctx) => runTrust(ctx, false),
});

export const tlsUntrust = defineCommand({
  name: "tls:untrust",
  description: "Remove the local CA from this machine's trust stores (the CA files stay)",
  args,
  run: (ctx) => runTrust(ctx, true),
});

function runTrust({ app, args: a }: CommandContext<typeof args>, remove: boolean): number {
  const platform = (a.platform ?? currentPlatform()) as Platform;
  if (!["linux", "macos", "windows"].includes(platform)) throw new UsageError(`--platform must be linux, macos or windows, got '${a.platform}'`);
  // trusting needs an existing CA: a missing one is an error here, not silently created
  const ca = loadCa(tlsOptions(app).dir, app.clock.now());
  const plan = trustPlan(platform, systemContext(ca.certPath, ca.info.fingerprint, ca.info.serial), remove);
  const asRoot = process.getuid?.() === 0;
  const dryRun = Boolean(a["dry-run"]) || platform !== currentPlatform();
  const lines = plan.steps.map((s) => shellLine(s, asRoot));
  const report = { ...plan, ca_path: ca.certPath, fingerprint: ca.info.fingerprint, dry_run: dryRun, commands: lines };
  if (dryRun) {
    app.print(report, (r) =>
      [
        `# ${remove ? "untrust" : "trust"} ${r.ca_path} (${r.platform}, ${r.store})`,
        ...plan.steps.map((s, i) => `# ${s.description}\n${lines[i]}`),
        ...r.notes.map((n: string) => `# note: ${n}`),
      ].join("\n"),
    );
    return 0;
  }
  for (const [i, step] of plan.steps.entries()) {
    app.log.info(`${step.description}: ${lines[i]}`);
    const argv = step.root && !asRoot ? ["sudo", ...step.command] : step.command;
    const res = Bun.spawnSync(argv, { stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    if (res.exitCode !== 0) {
      throw new SecurelyError(`${step.description} failed (exit ${res.exitCode}): ${lines[i]}`, { code: "TLS_TRUST_FAILED", hint: "run the remaining steps by hand: securely tls:trust --dry-run" });
    }
  }
  app.print(report, (r) => [`${remove ? "removed" : "trusted"} ${r.ca_path} (${r.platform}, ${r.store})`, ...r.notes.map((n: string) => `note: ${n}`)].join("\n"));
  return 0;
}
