import { defineCommand } from "../../core/module.ts";
import { caPaths, keyTooOpen, retireCa } from "../ca.ts";
import { tlsOptions } from "../config.ts";
import { ensureLocalCa } from "../local-ca.ts";
import { linuxAnchorPath } from "../trust/linux.ts";
import { permittedDnsOf } from "../x509/build.ts";
import { currentPlatform, systemContext } from "../trust/plan.ts";
import type { LocalCa } from "../ca.ts";

export const tlsCa = defineCommand({
  name: "tls:ca",
  description: "Show the local CA (subject, fingerprint, expiry, paths), creating it if missing",
  args: {
    new: { type: "boolean", description: "Move the current CA aside (*.bak) and create a new one; trust it again afterwards" },
  },
  run({ app, args }) {
    const o = tlsOptions(app);
    let retired: string[] = [];
    if (args.new) retired = app.store().tx(() => retireCa(o.dir, app.clock.now()));
    const { ca, created } = ensureLocalCa(app, o);
    if (keyTooOpen(o.dir)) app.log.warn(`${caPaths(o.dir).keyPath} is readable by other users: chmod 600 it`);
    const info = { created, ...caSummary(ca), retired };
    app.print(info, (i) =>
      [
        i.created ? `created a new local CA${i.retired.length ? ` (old files kept as ${i.retired.join(", ")})` : ""}` : "local CA",
        `  subject:      ${i.subject}`,
        `  fingerprint:  ${i.fingerprint} (SHA-256)`,
        `  valid:        ${i.not_before} → ${i.not_after}`,
        `  key type:     ${i.key_type}`,
        `  may sign:     ${i.permitted_names.length ? i.permitted_names.map((n: string) => `*.${n}`).join(", ") : "any name"}`,
        `  certificate:  ${i.cert_path}`,
        `  private key:  ${i.key_path} (never printed)`,
        `  system trust: ${i.system_trust}`,
        i.created ? "next: securely tls:trust (add it to this machine's trust stores)" : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
  },
});

/** What is safe to show about the CA: never key material. */
export function caSummary(ca: LocalCa) {
  return {
    subject: ca.info.subject,
    fingerprint: ca.info.fingerprint,
    serial: ca.info.serial,
    not_before: ca.info.not_before,
    not_after: ca.info.not_after,
    key_type: ca.info.key_type,
    permitted_names: permittedDnsOf(ca.certPem),
    cert_path: ca.certPath,
    key_path: ca.keyPath,
    system_trust: systemTrust(ca),
  };
}

/** Linux: is our file in the system anchor folder? Elsewhere we cannot tell cheaply. */
function systemTrust(ca: LocalCa): "installed" | "not installed" | "unknown" {
  if (currentPlatform() !== "linux") return "unknown";
  const ctx = systemContext(ca.certPath, ca.info.fingerprint, ca.info.serial);
  const anchor = linuxAnchorPath(ctx);
  if (!anchor) return "unknown";
  return ctx.exists(anchor) ? "installed" : "not installed";
}

