/** Write a certificate and its key where tls:cert / tls:renew were asked to, with clear errors. */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SecurelyError } from "../core/errors.ts";

export function writeCertificateFiles(certPath: string, keyPath: string, certPem: string, keyPem: string): void {
  try {
    for (const dir of new Set([dirname(certPath), dirname(keyPath)])) if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o755 });
    // the key first and private from its first byte: never a moment with a world-readable key
    writeFileSync(keyPath, keyPem, { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(certPath, certPem, { mode: 0o644 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SecurelyError(`cannot write certificate files ${certPath}, ${keyPath}: ${e.code ?? e.message}`, {
      code: "TLS_WRITE_FAILED",
      hint: "choose a writable folder with --out",
    });
  }
}
