/**
 * Client address and X-Forwarded-* handling. Forwarded headers are believed only from peers in
 * `trusted_proxies`; from anyone else they are replaced, so a client cannot spoof its address.
 */
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

/** The X-Forwarded-For/Proto/Host values to send upstream. */
export function forwardedFor(peerIp: string, h: Headers, tls: boolean, trusted: CidrSet): ForwardedValues {
  const fromTrusted = trusted.size > 0 && trusted.has(peerIp);
  const prior = fromTrusted ? h.get("x-forwarded-for") : null;
  return {
    for: prior ? `${prior}, ${peerIp}` : peerIp,
    proto: (fromTrusted && h.get("x-forwarded-proto")) || (tls ? "https" : "http"),
    host: (fromTrusted && h.get("x-forwarded-host")) || h.get("host") || "",
  };
}
