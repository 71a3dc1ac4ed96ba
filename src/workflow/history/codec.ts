/**
 * How workflow payloads (inputs, results, signal payloads, errors, heartbeat details) are written
 * to the store: JSON, or — with `workflow.encrypt: true` — JSON encrypted with the app key in
 * Laravel's payload format (Temporal's payload codec; Laravel Workflow's ShouldBeEncrypted).
 * Encrypted values carry a prefix, so rows written before encryption was turned on still read.
 */
import type { Encrypter } from "../../core/crypto/index.ts";

export interface PayloadCodec {
  encode(value: unknown): string;
  decode(text: string | null): any;
}

export const jsonCodec: PayloadCodec = {
  encode: (v) => JSON.stringify(v === undefined ? null : v),
  decode: (s) => (s === null || s === undefined ? null : JSON.parse(s)),
};

const PREFIX = "enc:";

export function encryptingCodec(encrypter: Encrypter): PayloadCodec {
  return {
    encode: (v) => PREFIX + encrypter.encryptString(JSON.stringify(v === undefined ? null : v)),
    decode: (s) => {
      if (s === null || s === undefined) return null;
      return JSON.parse(s.startsWith(PREFIX) ? encrypter.decryptString(s.slice(PREFIX.length)) : s);
    },
  };
}
