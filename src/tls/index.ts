/**
 * @module tls — a local certificate authority (node-forge builds the X.509, node:crypto makes the
 * keys and signatures) and leaf certificates for development hosts: `tls:ca`, `tls:cert`,
 * `tls:list`, `tls:renew`, `tls:remove`, `tls:trust`, `tls:untrust`. The proxy's `tls: auto` calls
 * `certificateFor(app, hosts)`; this file is the only one other namespaces may import.
 */
import { defineModule } from "../core/module.ts";
import { tlsCommands } from "./commands/index.ts";
import { tlsConfig } from "./config.ts";
import { tlsMigrations } from "./migrations.ts";

export { certificateFor, type CertificateForOptions } from "./certificate-for.ts";
export { ensureLocalCa } from "./local-ca.ts";
export { normalizeHost, normalizeHosts } from "./hosts.ts";
export { TlsError } from "./errors.ts";
export type { CertificateBundle, KeyType } from "./types.ts";

export const tlsModule = defineModule({
  name: "tls",
  description: "local CA and certificates",
  commands: tlsCommands,
  config: { tls: tlsConfig },
  migrations: tlsMigrations,
});
