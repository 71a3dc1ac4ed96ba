/**
 * The local CA: two files in the tls folder, `ca.pem` (the root certificate users trust) and
 * `ca-key.pem` (PKCS#8, mode 0600, folder 0700). Files rather than store rows because curl,
 * openssl, NODE_EXTRA_CA_CERTS and the OS trust stores all want a path.
 */
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import { TlsError } from "./errors.ts";
import { buildCertificate, randomSerial } from "./x509/build.ts";
import { describe } from "./x509/inspect.ts";
import { generateKey, parsePrivateKey, type KeyPair } from "./x509/keys.ts";
import type { CertificateInfo, KeyType } from "./types.ts";

export interface LocalCa {
  certPem: string;
  key: KeyPair;
  x509: X509Certificate;
  certPath: string;
  keyPath: string;
  info: CertificateInfo;
}

export interface CaCreateOptions {
  days: number;
  keyType: KeyType;
  permittedNames?: string[];
  now: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function caPaths(dir: string): { certPath: string; keyPath: string } {
  return { certPath: join(dir, "ca.pem"), keyPath: join(dir, "ca-key.pem") };
}

/** Load and check the CA in `dir`; every way it can be broken is a TlsError naming the file. */
export function loadCa(dir: string, now: number): LocalCa {
  const { certPath, keyPath } = caPaths(dir);
  const hasCert = existsSync(certPath);
  const hasKey = existsSync(keyPath);
  if (!hasCert && !hasKey) throw TlsError.caMissing(dir);
  if (!hasCert) throw TlsError.caIncomplete(keyPath, certPath);
  if (!hasKey) throw TlsError.caIncomplete(certPath, keyPath);
  const certPem = read(certPath, "CA certificate");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch (err) {
    throw TlsError.unreadable("CA certificate", certPath, `not a PEM certificate (${(err as Error).message})`);
  }
  let key: KeyPair;
  try {
    key = parsePrivateKey(read(keyPath, "CA key"));
  } catch (err) {
    if (err instanceof TlsError) throw err;
    throw TlsError.unreadable("CA key", keyPath, `not a PEM private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(key.privateKey)) throw TlsError.caKeyMismatch(certPath, keyPath);
  const notAfter = new Date(x509.validTo);
  if (notAfter.getTime() <= now) throw TlsError.caExpired(certPath, notAfter);
  return { certPem, key, x509, certPath, keyPath, info: describe(certPem) };
}

/** Is the key file readable by group or others? (tls:ca warns; ssh refuses such keys.) */
export function keyTooOpen(dir: string): boolean {
  const { keyPath } = caPaths(dir);
  return existsSync(keyPath) && (statSync(keyPath).mode & 0o077) !== 0;
}

/** Create a new root CA in `dir` (which must not hold one). */
export function createCa(dir: string, opts: CaCreateOptions): LocalCa {
  ensureDir(dir);
  const { certPath, keyPath } = caPaths(dir);
  const key = generateKey(opts.keyType);
  const who = `${safeUser()}@${hostname()}`;
  // unique per machine and creation day, like mkcert's "mkcert user@host": trust stores list it by name
  const name = { O: "securely local CA", OU: who, CN: `securely ${who} ${new Date(opts.now).toISOString().slice(0, 10)}` };
  const certPem = buildCertificate({
    subject: name,
    issuer: name,
    serial: randomSerial(),
    notBefore: new Date(opts.now - HOUR),
    notAfter: new Date(opts.now + opts.days * DAY),
    spki: key.spki,
    issuerSpki: key.spki,
    signingKey: key.privateKey,
    ca: true,
    permittedDns: opts.permittedNames,
  });
  // key first, then certificate: a reader never sees a certificate without its key
  writeAtomically(keyPath, key.pem, 0o600);
  writeAtomically(certPath, certPem, 0o644);
  return { certPem, key, x509: new X509Certificate(certPem), certPath, keyPath, info: describe(certPem) };
}

/** Move the current CA files aside (`ca.pem.<stamp>.bak`) so a new CA can be created. */
export function retireCa(dir: string, now: number): string[] {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, "-");
  const moved: string[] = [];
  for (const p of Object.values(caPaths(dir))) {
    if (!existsSync(p)) continue;
    renameSync(p, `${p}.${stamp}.bak`);
    moved.push(`${p}.${stamp}.bak`);
  }
  return moved;
}

export function ensureDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw TlsError.unreadable(what, path, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "user";
  }
}
