/** Issue one leaf certificate for a set of hosts, signed by the local CA. */
import { X509Certificate } from "node:crypto";
import type { LocalCa } from "./ca.ts";
import { isIP } from "node:net";
import { TlsError } from "./errors.ts";
import { buildCertificate, permittedDnsOf, randomSerial, subjectNameDer } from "./x509/build.ts";
import { generateKey } from "./x509/keys.ts";
import type { KeyType } from "./types.ts";

export interface IssueOptions {
  days: number;
  keyType: KeyType;
  now: number;
  /** Also valid as a TLS client certificate (extKeyUsage clientAuth), as mkcert -client. */
  client?: boolean;
}

export interface Issued {
  certPem: string;
  keyPem: string;
  serial: string;
  fingerprint: string;
  keyType: KeyType;
  notBefore: Date;
  notAfter: Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** `hosts` must already be normalised (hosts.ts); the first one becomes the subject CN. */
export function issueLeaf(ca: LocalCa, hosts: string[], opts: IssueOptions): Issued {
  checkConstraints(ca, hosts);
  const key = generateKey(opts.keyType);
  const serial = randomSerial();
  // an hour of slack for clocks that run behind; never outlive the CA that signs it
  const notBefore = new Date(opts.now - HOUR);
  const caEnd = new Date(ca.x509.validTo).getTime();
  const notAfter = new Date(Math.min(opts.now + opts.days * DAY, caEnd));
  const certPem = buildCertificate({
    subject: { O: "securely development certificate", CN: hosts[0]!.slice(0, 64) },
    issuer: { CN: "placeholder" },
    issuerDer: subjectNameDer(ca.certPem),
    serial,
    notBefore,
    notAfter,
    spki: key.spki,
    issuerSpki: ca.key.spki,
    signingKey: ca.key.privateKey,
    ca: false,
    hosts,
    client: opts.client,
  });
  return { certPem, keyPem: key.pem, serial, fingerprint: new X509Certificate(certPem).fingerprint256, keyType: opts.keyType, notBefore, notAfter };
}

/** Refuse names a name-constrained CA may not sign: clients would reject the certificate anyway. */
function checkConstraints(ca: LocalCa, hosts: string[]): void {
  const permitted = permittedDnsOf(ca.certPem);
  if (permitted.length === 0) return;
  for (const h of hosts) {
    if (isIP(h)) continue; // RFC 5280 §4.2.1.10: dNSName constraints do not restrict iPAddress names
    const name = h.replace(/^\*\./, "");
    if (!permitted.some((p) => name === p || name.endsWith("." + p))) throw TlsError.outsideConstraints(h, permitted, ca.certPath);
  }
}
