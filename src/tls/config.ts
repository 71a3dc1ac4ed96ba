/** The `tls:` config section: where the local CA lives, key types, validity and renewal. */
import { dirname, join } from "node:path";
import type { App } from "../core/app.ts";
import { list, obj, val } from "../core/config/schema.ts";
import { KEY_TYPES, type KeyType } from "./types.ts";

const keyTypes = KEY_TYPES.join(",");

export const tlsConfig = obj({
  dir: val(
    "string",
    "",
    "Folder (0700) of the local CA (ca.pem, ca-key.pem 0600) and of tls:cert files; relative to the config file; empty = `tls/` beside the store file.",
  ),
  days: val("integer|min:1|max:825", 365, "Validity of issued leaf certificates, in days (at most 825: Apple platforms reject longer server certificates)."),
  ca_days: val("integer|min:1|max:36500", 3650, "Validity of a newly created local CA, in days."),
  key_type: val(`in:${keyTypes}`, "ecdsa_p256", "Key type of issued leaf certificates (ECDSA: 0.01 ms keygen; RSA-2048: ~36 ms)."),
  ca_key_type: val(`in:${keyTypes}`, "ecdsa_p256", "Key type of a newly created local CA."),
  renew_before_days: val(
    "integer|min:0",
    30,
    "certificateFor (proxy `tls: auto`) replaces a cached certificate this many days before it expires (or at two thirds of its lifetime, if sooner).",
  ),
  permitted_names: list(
    val("string|regex:/^\\.?[A-Za-z0-9_.-]+$/"),
    [],
    "DNS suffixes a newly created CA may sign (X.509 name constraints), e.g. [test, localhost]; empty = any name. Limits what a stolen CA key can impersonate.",
  ),
});

/** The resolved section, as typed values. */
export interface TlsOptions {
  /** Absolute folder of the CA files. */
  dir: string;
  days: number;
  ca_days: number;
  key_type: KeyType;
  ca_key_type: KeyType;
  renew_before_days: number;
  permitted_names: string[];
}

export function tlsOptions(app: App): TlsOptions {
  const c = app.config.get<Omit<TlsOptions, "dir"> & { dir: string }>("tls");
  return { ...c, permitted_names: c.permitted_names.map((n) => n.replace(/^\./, "").toLowerCase()), dir: tlsDir(app, c.dir) };
}

function tlsDir(app: App, configured: string): string {
  if (configured) return app.resolvePath(configured);
  const store = app.storePath;
  return store === ":memory:" ? app.resolvePath(".securely/tls") : join(dirname(store), "tls");
}
