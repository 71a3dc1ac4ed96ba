/**
 * Client address and X-Forwarded-* handling. Forwarded headers are believed only from peers in
 * `trusted_proxies`; from anyone else they are replaced, so a client cannot spoof its address.
 */
import type { HeaderSource } from "../routing/table.ts";
import type { CidrSet } from "./ip-filter.ts";

/** The client address: the socket peer, or (behind trusted proxies) the last untrusted XFF hop. */
export function clientAddress(peerIp: string, xff: string | null, trusted: CidrSet): string {
  if (!xff || trusted.size === 0 || !trusted.has(peerIp)) return peerIp;
  const hops = xff.split(",").map((s) => s.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!;
  return hops[0] ?? peerIp;
}

export interface ForwardedValues {
  for: string;
  proto: string;
  host: string;
}

/** The X-Forwarded-For/Proto/Host values to send upstream (`host`: the Host header, when already read). */
export function forwardedFor(peerIp: string, h: HeaderSource, tls: boolean, trusted: CidrSet, host: string | null = h.get("host")): ForwardedValues {
  const fromTrusted = trusted.size > 0 && trusted.has(peerIp);
  if (!fromTrusted) return { for: peerIp, proto: tls ? "https" : "http", host: host || "" };
  const prior = h.get("x-forwarded-for");
  return {
    for: prior ? `${prior}, ${peerIp}` : peerIp,
    proto: h.get("x-forwarded-proto") || (tls ? "https" : "http"),
    host: h.get("x-forwarded-host") || host || "",
  };
}
