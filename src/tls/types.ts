/** Contracts of the tls namespace: key types, the CA, issued certificates. Imports nothing concrete. */

/** Key algorithms a CA or a leaf can use. ECDSA keys are made in ~0.01 ms, RSA-2048 in ~36 ms (docs/tls.md). */
export type KeyType = "ecdsa_p256" | "ecdsa_p384" | "rsa_2048" | "rsa_3072" | "rsa_4096";
export const KEY_TYPES: readonly KeyType[] = ["ecdsa_p256", "ecdsa_p384", "rsa_2048", "rsa_3072", "rsa_4096"];

/** What the proxy needs to serve TLS for a set of hosts: PEM texts, ready for Bun.serve({ tls }). */
export interface CertificateBundle {
  /** Leaf certificate, PEM. */
  cert: string;
  /** Leaf private key, PKCS#8 PEM. */
  key: string;
  /** The local CA certificate, PEM (the trust root clients need; not part of the served chain). */
  ca: string;
  /** Hosts (DNS names, wildcards, IPs) the certificate covers, normalised. */
  hosts: string[];
  /** Serial number, lower-case hex. */
  serial: string;
  /** End of validity. */
  notAfter: Date;
  /** From this moment certificateFor issues a replacement: reload the listener after it. */
  renewAt: Date;
}

/** A summary of one certificate, safe to print (no key material). */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  serial: string;
  /** SHA-256 fingerprint, colon-separated upper-case hex as openssl prints it. */
  fingerprint: string;
  not_before: string;
  not_after: string;
  key_type: string;
  hosts: string[];
}

/** A row of tls_certificates as tls:list shows it. */
export interface IssuedRecord {
  id: number;
  hosts: string[];
  serial: string;
  fingerprint: string;
  key_type: string;
  not_before: string;
  not_after: string;
  /** "cli" for tls:cert, "auto" for certificateFor (proxy `tls: auto`). */
  source: string;
  cert_path: string | null;
  key_path: string | null;
}
