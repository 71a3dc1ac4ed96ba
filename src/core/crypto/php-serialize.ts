/**
 * The slice of PHP's serialize()/unserialize() that Laravel's `encrypt($value)` puts around a
 * value: scalars only (`s:5:"hello";`, `i:42;`, `d:1.5;`, `b:1;`, `N;`). String lengths are in
 * bytes, as PHP counts them. Arrays and objects are refused: unserializing objects from a payload
 * is PHP's classic injection hole, and securely never stores them.
 */
import { CryptoError } from "./errors.ts";

export type PhpScalar = string | number | boolean | null;

export function phpSerialize(value: PhpScalar): Buffer {
  if (value === null) return Buffer.from("N;");
  if (typeof value === "boolean") return Buffer.from(`b:${value ? 1 : 0};`);
  if (typeof value === "number") {
    if (Number.isInteger(value)) return Buffer.from(`i:${value};`);
    return Buffer.from(`d:${value};`);
  }
  const bytes = Buffer.from(value, "utf8");
  return Buffer.concat([Buffer.from(`s:${bytes.length}:"`), bytes, Buffer.from('";')]);
}

export function phpUnserialize(data: Buffer): PhpScalar {
  const head = data.subarray(0, 2).toString("latin1");
  const text = () => data.toString("latin1");
  if (head === "N;" && data.length === 2) return null;
  if (head === "s:") {
    const colon = data.indexOf(0x3a, 2);
    const len = colon > 2 ? Number(data.subarray(2, colon).toString("latin1")) : NaN;
    if (!Number.isInteger(len) || len < 0) throw CryptoError.unserialize("a string without a valid length");
    const start = colon + 2;
    if (data[colon + 1] !== 0x22 || data.length !== start + len + 2 || data.subarray(start + len).toString("latin1") !== '";') {
      throw CryptoError.unserialize(`the string's length does not match s:${len}`);
    }
    return data.subarray(start, start + len).toString("utf8");
  }
  const m = /^(i|d|b):([^;]+);$/.exec(text());
  if (m) {
    const n = Number(m[2]);
    if (Number.isNaN(n)) throw CryptoError.unserialize(`'${m[1]}:' is not followed by a number`);
    if (m[1] === "b") return n !== 0;
    return n;
  }
  if (head === "a:" || head === "O:" || head === "C:") throw CryptoError.unserialize("PHP arrays and objects are not supported, only scalars");
  throw CryptoError.unserialize("it is not a PHP-serialized scalar");
}
