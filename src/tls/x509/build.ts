/**
 * X.509 v3 certificates: node-forge builds the structure (names, validity, extensions — RFC 5280
 * §4.1), node:crypto signs it. Forge alone can only sign with RSA in JavaScript (≈13 ms per
 * RSA-2048 signature here, and no ECDSA at all); the native signer takes ≈0.4 ms for RSA-2048 and
 * ≈0.02 ms for P-256. So forge's TBSCertificate is taken, its public key and signature algorithm
 * are replaced by the real ones, and the outer Certificate SEQUENCE is assembled here.
 */
import { createHash, sign, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import forge from "node-forge";

const { asn1, pki } = forge;

export interface Name {
  CN: string;
  O?: string;
  OU?: string;
}

export interface CertificateSpec {
  subject: Name;
  /** Issuer name; for a leaf pass `issuerDer` instead so it matches the CA's subject byte for byte. */
  issuer: Name;
  /** DER of the issuer's subject Name, spliced verbatim (chain building compares names). */
  issuerDer?: Buffer;
  /** Positive serial, hex. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo of the subject's key. */
  spki: Buffer;
  /** DER SubjectPublicKeyInfo of the issuer (for the Authority Key Identifier). */
  issuerSpki: Buffer;
  /** The key that signs: the CA's (or the subject's own, for the self-signed root). */
  signingKey: KeyObject;
  ca: boolean;
  /** SAN entries (leaf only): DNS names, wildcards and IP addresses. */
  hosts?: string[];
  /** Add clientAuth to the leaf's extended key usage (mTLS client certificates). */
  client?: boolean;
  /** Name constraints for a CA (RFC 5280 §4.2.1.10): permitted DNS suffixes. */
  permittedDns?: string[];
}

// RFC 5758 §3.2 (ECDSA: parameters absent) and RFC 4055 §5 (RSA PKCS#1 v1.5: NULL parameters)
const SIG_ALGS = {
  sha256: { ec: "1.2.840.10045.4.3.2", rsa: "1.2.840.113549.1.1.11" },
  sha384: { ec: "1.2.840.10045.4.3.3", rsa: "1.2.840.113549.1.1.12" },
} as const;

/** Parse DER keeping BIT STRINGs opaque (forge would otherwise try to decode an RSA key inside one). */
function fromDer(der: Buffer): any {
  return asn1.fromDer(forge.util.createBuffer(der.toString("binary")), { decodeBitStrings: false });
}

/** Key identifier, RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const spki = fromDer(spkiDer);
  const bits: string = spki.value[1].value; // first byte is the unused-bits count (0)
  return createHash("sha1").update(Buffer.from(bits.slice(1), "binary")).digest();
}

function hashFor(key: KeyObject): "sha256" | "sha384" {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === "secp384r1" || curve === "P-384" ? "sha384" : "sha256";
}

function algorithmIdentifier(key: KeyObject): any {
  const hash = hashFor(key);
  const ec = key.asymmetricKeyType === "ec";
  const oid = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SIG_ALGS[hash][ec ? "ec" : "rsa"]).getBytes());
  const parts = ec ? [oid] : [oid, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, "")];
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, parts);
}

function attrs(n: Name): Array<{ shortName: string; value: string }> {
  const out = [];
  if (n.O) out.push({ shortName: "O", value: n.O });
  if (n.OU) out.push({ shortName: "OU", value: n.OU });
  out.push({ shortName: "CN", value: n.CN });
  return out;
}

function octets(bytes: Buffer): any {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString("binary"));
}

/** nameConstraints with permitted dNSName subtrees; forge reads this extension but cannot write it. */
function nameConstraints(permitted: string[]): any {
  const subtrees = permitted.map((dns) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, dns)]),
  );
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, subtrees)]);
}

function extensions(spec: CertificateSpec): any[] {
  const ski = keyIdentifier(spec.spki);
  const aki = keyIdentifier(spec.issuerSpki);
  const exts: any[] = [];
  if (spec.ca) {
    exts.push({ name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true });
    exts.push({ name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true });
    if (spec.permittedDns?.length) exts.push({ id: "2.5.29.30", critical: true, value: nameConstraints(spec.permittedDns) });
  } else {
    exts.push({ name: "basicConstraints", cA: false, critical: true });
    // keyEncipherment only matters for RSA key exchange (TLS 1.2 RSA suites); harmless for ECDSA
    exts.push({ name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true });
    exts.push({ name: "extKeyUsage", serverAuth: true, clientAuth: spec.client === true });
    const altNames = (spec.hosts ?? []).map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h }));
    exts.push({ name: "subjectAltName", altNames });
  }
  exts.push({ name: "subjectKeyIdentifier", value: octets(ski) });
  exts.push({ name: "authorityKeyIdentifier", keyIdentifier: aki.toString("binary") });
  return exts;
}

/** Build, sign and PEM-encode one certificate. */
export function buildCertificate(spec: CertificateSpec): string {
  const cert = pki.createCertificate();
  cert.serialNumber = spec.serial;
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.setSubject(attrs(spec.subject));
  cert.setIssuer(attrs(spec.issuer));
  cert.setExtensions(extensions(spec));
  // placeholders: forge's TBS builder insists on an RSA public key and an algorithm it knows;
  // both nodes are replaced below with the real key and the issuer's signature algorithm
  cert.publicKey = pki.setRsaPublicKey(new forge.jsbn.BigInteger("3"), new forge.jsbn.BigInteger("3"));
  cert.siginfo.algorithmOid = SIG_ALGS.sha256.rsa;
  const tbs = pki.getTBSCertificate(cert);
  const algId = algorithmIdentifier(spec.signingKey);
  tbs.value[2] = algId;
  if (spec.issuerDer) tbs.value[3] = fromDer(spec.issuerDer);
  tbs.value[6] = fromDer(spec.spki);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), "binary");
  const signature = sign(hashFor(spec.signingKey), tbsDer, spec.signingKey);
  const full = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithmIdentifier(spec.signingKey),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, "\x00" + signature.toString("binary")),
  ]);
  const der = Buffer.from(asn1.toDer(full).getBytes(), "binary");
  return toPem(der);
}

/** DER of a certificate's subject Name (TBSCertificate field 6, after the explicit version). */
export function subjectNameDer(certPem: string): Buffer {
  const der = forge.util.decode64(certPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
  const tbs = asn1.fromDer(der).value[0];
  return Buffer.from(asn1.toDer(tbs.value[5]).getBytes(), "binary");
}

/** Permitted dNSName subtrees of a CA's nameConstraints extension ([] when unconstrained). */
export function permittedDnsOf(certPem: string): string[] {
  const der = forge.util.decode64(certPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
  const tbs = asn1.fromDer(der).value[0];
  const extsWrapper = tbs.value.find((n: any) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  for (const ext of extsWrapper?.value[0]?.value ?? []) {
    if (asn1.derToOid(ext.value[0].value) !== "2.5.29.30") continue;
    const nc = asn1.fromDer(ext.value[ext.value.length - 1].value);
    const permitted = nc.value.find((n: any) => n.type === 0);
    // GeneralSubtree → base GeneralName; [2] is dNSName
    return (permitted?.value ?? []).map((st: any) => st.value[0]).filter((gn: any) => gn.type === 2).map((gn: any) => String(gn.value).toLowerCase());
  }
  return [];
}

export function toPem(der: Buffer): string {
  const b64 = der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** 128 random bits, top bit clear so the INTEGER stays positive (RFC 5280 §4.1.2.2: ≤ 20 octets). */
export function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01;
  return Buffer.from(b).toString("hex");
}
