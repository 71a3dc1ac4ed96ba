/**
 * Local-dev domains (what Laravel Valet uses dnsmasq for): `dns.local_domains: { test: 127.0.0.1 }`
 * becomes a zone `test.` whose apex and wildcard `*.test.` hold A and AAAA, so every name under
 * the TLD, at any depth, resolves to this machine (RFC 4592 synthesis) and none leaks upstream.
 */
import { isIPv4, isIPv6 } from "node:net";
import { CLASS, TYPE } from "../wire/constants.ts";
import { canonical } from "../wire/names.ts";
import type { Rr } from "../wire/types.ts";

/** TTL of local-dev answers: short, so switching a site's address is quick. */
export const LOCAL_TTL = 60;

/** Parse "127.0.0.1" or "127.0.0.1, ::1"; a loopback IPv4 alone also answers AAAA with ::1. */
export function localAddresses(value: string): { v4: string[]; v6: string[] } | string {
  const parts = value.split(/[\s,]+/).filter(Boolean);
  const bad = parts.find((p) => !isIPv4(p) && !isIPv6(p));
  if (bad !== undefined || parts.length === 0) return `expected IP addresses, got "${bad ?? value}"`;
  const v4 = parts.filter((p) => isIPv4(p));
  const v6 = parts.filter((p) => isIPv6(p));
  if (v6.length === 0 && v4.some((a) => a.startsWith("127."))) v6.push("::1");
  return { v4, v6 };
}

export function localDomainRecords(tld: string, value: string): Rr[] {
  const origin = canonical(tld);
  const addrs = localAddresses(value);
  if (typeof addrs === "string") throw new Error(`dns.local_domains.${tld}: ${addrs}`);
  const out: Rr[] = [
    { name: origin, type: TYPE.SOA, class: CLASS.IN, ttl: LOCAL_TTL, data: { mname: "localhost", rname: `hostmaster.${origin}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: LOCAL_TTL } },
    { name: origin, type: TYPE.NS, class: CLASS.IN, ttl: LOCAL_TTL, data: "localhost" },
  ];
  for (const owner of [origin, `*.${origin}`]) {
    for (const a of addrs.v4) out.push({ name: owner, type: TYPE.A, class: CLASS.IN, ttl: LOCAL_TTL, data: a });
    for (const a of addrs.v6) out.push({ name: owner, type: TYPE.AAAA, class: CLASS.IN, ttl: LOCAL_TTL, data: a });
  }
  return out;
}
