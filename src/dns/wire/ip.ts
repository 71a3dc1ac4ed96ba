/** Client-network ACLs; IPv4/IPv6 text ↔ bytes (SVCB hints) come from core. */
import { bytesToIp, ipToBytes } from "../../core/net/ip.ts";

export { bytesToIp, ipToBytes };

/** A client network ("10.0.0.0/8", "::1", "any"); `matches` takes the textual client address. */
export class Cidr {
  private constructor(private bytes: Uint8Array | undefined, private bits: number, readonly text: string) {}

  static parse(text: string): Cidr | undefined {
    if (text === "any" || text === "*") return new Cidr(undefined, 0, text);
    const [addr, len] = text.split("/") as [string, string | undefined];
    const bytes = ipToBytes(addr);
    if (!bytes) return undefined;
    const max = bytes.length * 8;
    const bits = len === undefined ? max : Number(len);
    if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined;
    return new Cidr(bytes, bits, text);
  }

  matches(ip: string): boolean {
    if (!this.bytes) return true;
    let b = ipToBytes(ip);
    if (!b) return false;
    // an IPv4-mapped client (::ffff:a.b.c.d on dual-stack sockets) matches IPv4 networks
    if (b.length === 16 && this.bytes.length === 4 && b.slice(0, 12).every((x, i) => x === (i < 10 ? 0 : 0xff))) b = b.slice(12);
    if (b.length !== this.bytes.length) return false;
    let bits = this.bits;
    for (let i = 0; bits > 0; i++, bits -= 8) {
      const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
      if ((b[i]! & mask) !== (this.bytes[i]! & mask)) return false;
    }
    return true;
  }
}

/** Does any network in the list contain `ip`? */
export function anyMatch(list: Cidr[], ip: string): boolean {
  for (const c of list) if (c.matches(ip)) return true;
  return false;
}
