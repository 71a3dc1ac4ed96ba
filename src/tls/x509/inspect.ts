/** Read certificates back with node:crypto's X509Certificate: what tls:ca / tls:list print. */
import { X509Certificate } from "node:crypto";
import type { CertificateInfo } from "../types.ts";
import { keyTypeOf } from "./keys.ts";

export function describe(pem: string): CertificateInfo {
  const x = new X509Certificate(pem);
  return {
    subject: x.subject.replaceAll("\n", ", "),
    issuer: x.issuer.replaceAll("\n", ", "),
    serial: x.serialNumber.toLowerCase(),
    fingerprint: x.fingerprint256,
    not_before: new Date(x.validFrom).toISOString(),
    not_after: new Date(x.validTo).toISOString(),
    key_type: keyTypeOf(x.publicKey),
    hosts: sans(x),
  };
}

/** SAN entries without their "DNS:" / "IP Address:" prefixes. */
export function sans(x: X509Certificate): string[] {
  if (!x.subjectAltName) return [];
  return x.subjectAltName.split(", ").map((s) => s.replace(/^(DNS|IP Address):/, ""));
}
