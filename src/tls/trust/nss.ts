/**
 * NSS databases: Firefox (every profile, snap too) and Chromium on Linux read these, not the
 * system store. Same targets as mkcert (truststore_nss.go), trusted with `-t C,,` (TLS servers only).
 */
import { join } from "node:path";
import type { TrustContext, TrustStep } from "./types.ts";

export function nssDatabases(ctx: TrustContext): string[] {
  const dbs: string[] = [];
  const add = (dir: string) => {
    if (ctx.exists(join(dir, "cert9.db"))) dbs.push(dir);
  };
  add(join(ctx.home, ".pki/nssdb"));
  add(join(ctx.home, "snap/chromium/current/.pki/nssdb"));
  for (const root of [join(ctx.home, ".mozilla/firefox"), join(ctx.home, "snap/firefox/common/.mozilla/firefox")]) {
    for (const profile of ctx.list(root)) add(join(root, profile));
  }
  return dbs;
}

export function nssSteps(ctx: TrustContext, remove: boolean): { steps: TrustStep[]; notes: string[] } {
  const dbs = nssDatabases(ctx);
  if (dbs.length === 0) return { steps: [], notes: [] };
  if (!ctx.which("certutil")) {
    return {
      steps: [],
      notes: [`found ${dbs.length} NSS database(s) (Firefox/Chromium) but no certutil: install libnss3-tools (Debian/Ubuntu), nss-tools (Fedora) or mozilla-nss-tools (openSUSE), then run tls:trust again`],
    };
  }
  const nickname = ctx.name;
  const steps = dbs.map((db) => ({
    description: `${remove ? "remove the CA from" : "add the CA to"} the NSS database ${db}`,
    command: remove ? ["certutil", "-d", `sql:${db}`, "-D", "-n", nickname] : ["certutil", "-d", `sql:${db}`, "-A", "-t", "C,,", "-n", nickname, "-i", ctx.caPath],
    root: false,
  }));
  return { steps, notes: [] };
}
