/** Build the trust plan for a platform: system store, then NSS (Linux), plus notes for runtimes. */
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { linuxSteps } from "./linux.ts";
import { nssSteps } from "./nss.ts";
import type { Platform, TrustContext, TrustPlan, TrustStep } from "./types.ts";

export function currentPlatform(): Platform {
  return process.platform === "darwin" ? "macos" : process.platform === "win32" ? "windows" : "linux";
}

/** The real machine: its file system and PATH. */
export function systemContext(caPath: string, fingerprint: string, serial: string): TrustContext {
  return {
    caPath,
    name: trustName(fingerprint),
    serial,
    home: homedir(),
    exists: existsSync,
    list(dir) {
      try {
        return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
      } catch {
        return [];
      }
    },
    which: (cmd) => Bun.which(cmd) !== null,
  };
}

/** "securely-" + the first 16 hex digits of the SHA-256 fingerprint: distinct per CA, stable per CA. */
export function trustName(fingerprint: string): string {
  return `securely-${fingerprint.replaceAll(":", "").slice(0, 16).toLowerCase()}`;
}

export function trustPlan(platform: Platform, ctx: TrustContext, remove = false): TrustPlan {
  const notes: string[] = [];
  let steps: TrustStep[] = [];
  let store: string;
  if (platform === "macos") {
    store = "keychain";
    // mkcert and Valet both use the System keychain with an explicit trustRoot setting
    steps = remove
      ? [{ description: "remove the CA from the System keychain", command: ["security", "remove-trusted-cert", "-d", ctx.caPath], root: true }]
      : [
          {
            description: "add the CA to the System keychain as a trusted root",
            command: ["security", "add-trusted-cert", "-d", "-r", "trustRoot", "-k", "/Library/Keychains/System.keychain", ctx.caPath],
            root: true,
          },
        ];
  } else if (platform === "windows") {
    store = "windows-root";
    // the current user's Root store needs no elevation (Windows asks for confirmation instead)
    steps = remove
      ? [{ description: "remove the CA from the user's Root store", command: ["certutil", "-user", "-delstore", "Root", ctx.serial], root: false }]
      : [{ description: "add the CA to the user's Root store", command: ["certutil", "-user", "-addstore", "Root", ctx.caPath], root: false }];
  } else {
    const sys = linuxSteps(ctx, remove);
    const nss = nssSteps(ctx, remove);
    store = sys.store;
    steps = [...sys.steps, ...nss.steps];
    notes.push(...sys.notes, ...nss.notes);
  }
  if (!remove) {
    // Node ignores the OS store (mkcert #78); Bun reads the same variable
    notes.push(`Node.js and Bun do not read the system store: export NODE_EXTRA_CA_CERTS=${ctx.caPath}`);
    notes.push(`curl and openssl take it directly: curl --cacert ${ctx.caPath} …`);
  }
  return { platform, store, steps, notes };
}

/** A command as a shell line (for --dry-run and logs). */
export function shellLine(step: TrustStep, asRoot: boolean): string {
  const argv = step.root && !asRoot ? ["sudo", ...step.command] : step.command;
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}
