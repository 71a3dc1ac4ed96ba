/**
 * SVCB and HTTPS rdata (RFC 9460 §2.2, §7), which dns-packet 5.6.1 cannot encode: presentation
 * text ↔ wire bytes. Records of these types carry their rdata as a Buffer, so the generic raw
 * codec writes them; only this file knows the layout.
 */
import { bytesToIp, ipToBytes } from "./ip.ts";
import { absolute } from "./names.ts";

const KEYS = ["mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint"];

function keyNumber(name: string): number {
  const i = KEYS.indexOf(name.toLowerCase());
  if (i >= 0) return i;
  const m = /^key(\d{1,5})$/i.exec(name);
  if (m && Number(m[1]) <= 65535) return Number(m[1]);
  throw new Error(`unknown SvcParamKey "${name}"`);
}

function keyName(n: number): string {
  return KEYS[n] ?? `key${n}`;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function nameBytes(name: string): Buffer {
  const parts = name === "" ? [] : name.split(".");
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "latin1")])), Buffer.from([0])]);
}

function encodeValue(key: number, value: string | undefined): Buffer {
  const need = () => {
    if (value === undefined || value === "") throw new Error(`SvcParam ${keyName(key)} needs a value`);
    return value;
  };
  switch (key) {
    case 0:
      return Buffer.concat(need().split(",").map((k) => u16(keyNumber(k))));
    case 1:
      return Buffer.concat(need().split(",").map((a) => Buffer.concat([Buffer.from([a.length]), Buffer.from(a)])));
    case 2:
      if (value) throw new Error("no-default-alpn takes no value");
      return Buffer.alloc(0);
    case 3: {
      const p = Number(need());
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`bad port "${value}"`);
      return u16(p);
    }
    case 4:
    case 6:
      return Buffer.concat(
        need().split(",").map((ip) => {
          const b = ipToBytes(ip);
          if (!b || b.length !== (key === 4 ? 4 : 16)) throw new Error(`bad ${keyName(key)} address "${ip}"`);
          return Buffer.from(b);
        }),
      );
    case 5:
      return Buffer.from(need(), "base64");
    default:
      return Buffer.from(value ?? "", "latin1");
  }
}

function formatValue(key: number, v: Buffer): string | undefined {
  switch (key) {
    case 0: {
      const keys: string[] = [];
      for (let i = 0; i + 1 < v.length; i += 2) keys.push(keyName(v.readUInt16BE(i)));
      return keys.join(",");
    }
    case 1: {
      const out: string[] = [];
      for (let i = 0; i < v.length; ) {
        out.push(v.toString("latin1", i + 1, i + 1 + v[i]!));
        i += 1 + v[i]!;
      }
      return out.join(",");
    }
    case 2:
      return undefined;
    case 3:
      return String(v.readUInt16BE(0));
    case 4:
    case 6: {
      const size = key === 4 ? 4 : 16;
      const out: string[] = [];
      for (let i = 0; i + size <= v.length; i += size) out.push(bytesToIp(v.subarray(i, i + size)));
      return out.join(",");
    }
    case 5:
      return v.toString("base64");
    default:
      return v.toString("latin1");
  }
}

/** `1 . alpn=h2,h3 port=8443` (tokens after the type) → rdata bytes. Names already absolute-resolved. */
export function encodeSvcb(priority: number, target: string, params: string[]): Buffer {
  const entries = params.map((p) => {
    const eq = p.indexOf("=");
    const key = keyNumber(eq < 0 ? p : p.slice(0, eq));
    const raw = eq < 0 ? undefined : p.slice(eq + 1).replace(/^"|"$/g, "");
    return { key, value: encodeValue(key, raw) };
  });
  entries.sort((a, b) => a.key - b.key);
  for (let i = 1; i < entries.length; i++) if (entries[i]!.key === entries[i - 1]!.key) throw new Error(`SvcParam ${keyName(entries[i]!.key)} given twice`);
  if (priority === 0 && entries.length) throw new Error("AliasMode (priority 0) takes no SvcParams");
  return Buffer.concat([u16(priority), nameBytes(target), ...entries.flatMap((e) => [u16(e.key), u16(e.value.length), e.value])]);
}

/** Rdata bytes → `priority target. key=value …`. */
export function formatSvcb(rdata: Buffer): string {
  const priority = rdata.readUInt16BE(0);
  let off = 2;
  const labels: string[] = [];
  while (rdata[off]) {
    labels.push(rdata.toString("latin1", off + 1, off + 1 + rdata[off]!));
    off += 1 + rdata[off]!;
  }
  off++;
  const parts = [String(priority), absolute(labels.join("."))];
  while (off + 4 <= rdata.length) {
    const key = rdata.readUInt16BE(off);
    const len = rdata.readUInt16BE(off + 2);
    const v = formatValue(key, rdata.subarray(off + 4, off + 4 + len));
    parts.push(v === undefined ? keyName(key) : `${keyName(key)}=${v}`);
    off += 4 + len;
  }
  return parts.join(" ");
}
