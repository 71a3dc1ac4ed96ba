/**
 * IP addresses and CIDR ranges, used by allow/deny, match.client_ip and trusted_proxies.
 * IPv4 addresses are also matched in their IPv4-mapped IPv6 form (::ffff:1.2.3.4), which is how
 * dual-stack listeners report IPv4 clients.
 */
import { isIP } from "node:net";

export interface Cidr {
  v6: boolean;
  bits: bigint;
  prefix: number;
}

function ipToBig(ip: string): { v6: boolean; bits: bigint } | undefined {
  const kind = isIP(ip);
  if (kind === 4) return { v6: false, bits: ip.split(".").reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n) };
  if (kind !== 6) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return ipToBig(mapped[1]!);
  let [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill("0"), ...t];
  return { v6: true, bits: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || "0", 16)), 0n) };
}

export function parseCidr(s: string): Cidr | undefined {
  const [ip, p] = s.split("/");
  const parsed = ipToBig(ip!.trim());
  if (!parsed) return undefined;
  const max = parsed.v6 ? 128 : 32;
  const prefix = p === undefined ? max : Number(p);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { ...parsed, prefix };
}

/** A compiled list of ranges; `has(ip)` is what the hot path calls. */
export class CidrSet {
  private readonly ranges: Cidr[];
  constructor(list: string[]) {
    this.ranges = list.map((s) => parseCidr(s)).filter((c): c is Cidr => c !== undefined);
  }
  get size(): number {
    return this.ranges.length;
  }
  has(ip: string): boolean {
    const a = ipToBig(ip);
    if (!a) return false;
    for (const r of this.ranges) {
      if (r.v6 !== a.v6) continue;
      const width = BigInt(r.v6 ? 128 : 32);
      const shift = width - BigInt(r.prefix);
      if (a.bits >> shift === r.bits >> shift) return true;
    }
    return false;
  }
}
