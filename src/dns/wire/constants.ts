/**
 * Numbers from the IANA DNS parameters registry (RFC 1035 §3.2, §4.1.1; RFC 6891 §6.1.3).
 * Types are numbers inside securely; dns-packet's type names are only used at the codec edge.
 */
import types from "dns-packet/types.js";

export const TYPE = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35,
  OPT: 41, DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, TLSA: 52, SVCB: 64, HTTPS: 65, CAA: 257,
  IXFR: 251, AXFR: 252, ANY: 255,
} as const;

export const CLASS = { IN: 1, CH: 3, ANY: 255 } as const;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, NOTAUTH: 9, BADVERS: 16 } as const;

export const OPCODE = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

/** Header flag bits (second 16-bit word). */
export const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, Z: 0x0040, AD: 0x0020, CD: 0x0010 } as const;

/** EDNS flag: DNSSEC OK (RFC 3225). */
export const EDNS_DO = 0x8000;

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

export function rcodeName(rcode: number): string {
  if (rcode === RCODE.BADVERS) return "BADVERS";
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** Presentation name of a type number: "A", "HTTPS", or RFC 3597 "TYPE1234". */
export function typeName(type: number): string {
  if (type === TYPE.SVCB) return "SVCB";
  if (type === TYPE.HTTPS) return "HTTPS";
  const s = types.toString(type);
  return s.startsWith("UNKNOWN_") ? `TYPE${type}` : s;
}

/** Type number from "A", "https", "TYPE1234"; undefined when unknown. */
export function typeNumber(name: string): number | undefined {
  const up = name.toUpperCase();
  if (up === "SVCB") return TYPE.SVCB;
  if (up === "HTTPS") return TYPE.HTTPS;
  const m = /^TYPE(\d{1,5})$/.exec(up);
  if (m) {
    const n = Number(m[1]);
    return n > 0 && n <= 65535 ? n : undefined;
  }
  const n = types.toType(up);
  return n === 0 || up.startsWith("UNKNOWN_") ? undefined : n;
}

/** dns-packet's codec name for a type (unknown numbers get its raw-bytes codec). */
export function packetTypeName(type: number): string {
  return types.toString(type);
}
