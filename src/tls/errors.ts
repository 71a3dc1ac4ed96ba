/** Errors of the tls namespace: each says what failed, where (file or host) and what to do. */
import { SecurelyError } from "../core/errors.ts";

export class TlsError extends SecurelyError {
  constructor(message: string, opts: { code: string; hint?: string; cause?: unknown; exitCode?: number }) {
    super(message, opts);
    this.name = "TlsError";
  }

  static invalidHost(host: string, why: string): TlsError {
    return new TlsError(`invalid host '${host}': ${why}`, {
      code: "TLS_INVALID_HOST",
      exitCode: 2,
      hint: "give DNS names (app.test), wildcards (*.app.test) or IP addresses (127.0.0.1, ::1)",
    });
  }

  static noHosts(): TlsError {
    return new TlsError("no hosts given", { code: "TLS_NO_HOSTS", exitCode: 2, hint: "name at least one host: securely tls:cert app.test" });
  }

  static caMissing(dir: string): TlsError {
    return new TlsError(`no local CA in ${dir}`, { code: "TLS_CA_MISSING", hint: "create it with `securely tls:ca`" });
  }

  static caIncomplete(present: string, missing: string): TlsError {
    return new TlsError(`local CA is incomplete: ${present} exists but ${missing} is missing`, {
      code: "TLS_CA_INCOMPLETE",
      hint: `restore ${missing} from a backup, or delete ${present} to create a new CA (and trust it again)`,
    });
  }

  static unreadable(what: string, path: string, why: string): TlsError {
    return new TlsError(`cannot read ${what} ${path}: ${why}`, {
      code: "TLS_UNREADABLE",
      hint: "restore the file from a backup, or delete the CA files to create a new CA (and trust it again)",
    });
  }

  static caKeyMismatch(certPath: string, keyPath: string): TlsError {
    return new TlsError(`CA key ${keyPath} does not belong to CA certificate ${certPath}`, {
      code: "TLS_CA_KEY_MISMATCH",
      hint: "restore the matching pair from a backup, or delete both files to create a new CA",
    });
  }

  static caExpired(path: string, notAfter: Date): TlsError {
    return new TlsError(`local CA ${path} expired on ${notAfter.toISOString()}`, {
      code: "TLS_CA_EXPIRED",
      hint: "create a new one with `securely tls:ca --new` and trust it again",
    });
  }

  static outsideConstraints(host: string, permitted: string[], caPath: string): TlsError {
    return new TlsError(`host '${host}' is outside the names the local CA ${caPath} may sign (${permitted.join(", ")})`, {
      code: "TLS_NAME_NOT_PERMITTED",
      exitCode: 2,
      hint: "use a name under one of those suffixes, or create an unconstrained CA (tls.permitted_names: [], then tls:ca --new)",
    });
  }
}
