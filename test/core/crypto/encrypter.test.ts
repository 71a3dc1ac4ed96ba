import { describe, expect, test } from "bun:test";
import { CIPHER_NAMES, CryptoError, Encrypter, findCipher, formatKey, generateKey, parseKey } from "../../../src/core/crypto/index.ts";

const keyFor = (name: string) => generateKey(findCipher(name)!);
const decodeJson = (payload: string) => JSON.parse(Buffer.from(payload, "base64").toString("utf8"));

describe("Encrypter", () => {
  for (const cipher of CIPHER_NAMES) {
    test(`round trips raw and serialized values with ${cipher}`, () => {
      const e = new Encrypter({ key: keyFor(cipher), cipher });
      for (const v of ["", "hello", "päßwörd ✓ 🔑", "x".repeat(5000)]) {
        expect(e.decryptString(e.encryptString(v))).toBe(v);
        expect(e.decrypt(e.encrypt(v))).toBe(v);
      }
      expect(e.decrypt(e.encrypt(42))).toBe(42);
      expect(e.decrypt(e.encrypt(true))).toBe(true);
      expect(e.decrypt(e.encrypt(null))).toBe(null);
    });
  }

  test("writes Laravel's payload shape: iv, value, mac, tag in that order, slashes unescaped", () => {
    const cbc = decodeJson(new Encrypter({ key: keyFor("AES-256-CBC") }).encryptString("v"));
    expect(Object.keys(cbc)).toEqual(["iv", "value", "mac", "tag"]);
    expect(Buffer.from(cbc.iv, "base64").length).toBe(16);
    expect(cbc.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(cbc.tag).toBe("");
    const gcm = decodeJson(new Encrypter({ key: keyFor("AES-128-GCM"), cipher: "AES-128-GCM" }).encryptString("v"));
    expect(Buffer.from(gcm.iv, "base64").length).toBe(12);
    expect(gcm.mac).toBe("");
    expect(Buffer.from(gcm.tag, "base64").length).toBe(16);
  });

  test("accepts the cipher name in any case, as Laravel lower-cases it", () => {
    expect(new Encrypter({ key: keyFor("AES-256-GCM"), cipher: "aes-256-gcm" }).cipher.name).toBe("AES-256-GCM");
  });

  test("decrypts legacy payloads with escaped slashes and no tag field", () => {
    const e = new Encrypter({ key: keyFor("AES-256-CBC") });
    for (let i = 0; i < 20; i++) {
      const p = decodeJson(e.encryptString(`legacy ${i}`));
      const legacy = JSON.stringify({ iv: p.iv, value: p.value, mac: p.mac }).replaceAll("/", "\\/");
      expect(e.decryptString(Buffer.from(legacy).toString("base64"))).toBe(`legacy ${i}`);
    }
  });

  test("falls back to previous keys and says which key decrypted", () => {
    const oldKey = keyFor("AES-256-CBC");
    const payload = new Encrypter({ key: oldKey }).encryptString("kept");
    const rotated = new Encrypter({ key: keyFor("AES-256-CBC"), previousKeys: [keyFor("AES-256-CBC"), oldKey] });
    expect(rotated.decryptBytes(payload)).toEqual({ bytes: Buffer.from("kept"), keyIndex: 2 });
    const gcmOld = keyFor("AES-256-GCM");
    const gcmPayload = new Encrypter({ key: gcmOld, cipher: "AES-256-GCM" }).encryptString("g");
    expect(new Encrypter({ key: keyFor("AES-256-GCM"), cipher: "AES-256-GCM", previousKeys: [gcmOld] }).decryptString(gcmPayload)).toBe("g");
  });
});

describe("Encrypter errors", () => {
  const key = keyFor("AES-256-CBC");
  const e = new Encrypter({ key });
  const payload = e.encryptString("secret value");
  const failure = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(CryptoError);
      const msg = (err as Error).message;
      expect(msg).not.toContain("\n");
      expect(msg).not.toContain("secret value");
      expect(msg).not.toContain(key.toString("base64"));
      return msg;
    }
    throw new Error("expected a CryptoError");
  };

  test("a wrong key is an invalid MAC", () => {
    expect(failure(() => new Encrypter({ key: keyFor("AES-256-CBC") }).decryptString(payload))).toBe(
      "the MAC is invalid: the payload was made with another key or was changed",
    );
  });

  test("a wrong key under GCM cannot decrypt", () => {
    const g = new Encrypter({ key: keyFor("AES-256-GCM"), cipher: "AES-256-GCM" }).encryptString("x");
    expect(failure(() => new Encrypter({ key: keyFor("AES-256-GCM"), cipher: "AES-256-GCM" }).decryptString(g))).toBe(
      "could not decrypt the data: the payload was made with another key or was changed",
    );
  });

  test("a tampered value or iv is an invalid MAC", () => {
    const p = decodeJson(payload);
    const flip = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);
    for (const changed of [{ ...p, value: flip(p.value) }, { ...p, iv: flip(p.iv) }, { ...p, mac: flip(p.mac) }]) {
      expect(failure(() => e.decryptString(Buffer.from(JSON.stringify(changed)).toString("base64")))).toStartWith("the MAC is invalid");
    }
  });

  test("a tampered GCM tag cannot decrypt", () => {
    const g = new Encrypter({ key: keyFor("AES-128-GCM"), cipher: "AES-128-GCM" });
    const p = decodeJson(g.encryptString("x"));
    const tag = Buffer.from(p.tag, "base64");
    tag[0]! ^= 1;
    const bad = Buffer.from(JSON.stringify({ ...p, tag: tag.toString("base64") })).toString("base64");
    expect(failure(() => g.decryptString(bad))).toStartWith("could not decrypt the data");
  });

  test("truncated base64, garbage and missing fields are invalid payloads", () => {
    expect(failure(() => e.decryptString(payload.slice(0, payload.length - 10)))).toStartWith("the payload is invalid: it does not decode to JSON");
    expect(failure(() => e.decryptString("not base64 at all!"))).toStartWith("the payload is invalid: it is not base64");
    expect(failure(() => e.decryptString(""))).toStartWith("the payload is invalid: it is empty");
    expect(failure(() => e.decryptString(Buffer.from('{"iv":"x"}').toString("base64")))).toStartWith("the payload is invalid: the 'value' field is missing");
    expect(failure(() => e.decryptString(Buffer.from("[1]").toString("base64")))).toStartWith("the payload is invalid: it does not decode to a JSON object");
  });

  test("a payload of another cipher is refused by its iv length", () => {
    const g = new Encrypter({ key: keyFor("AES-256-GCM"), cipher: "AES-256-GCM" }).encryptString("x");
    expect(failure(() => new Encrypter({ key }).decryptString(g))).toContain("iv is not 16 bytes");
  });

  test("an unknown cipher or a key of the wrong length is refused at construction", () => {
    expect(failure(() => new Encrypter({ key, cipher: "AES-192-CBC" }))).toStartWith("unsupported cipher 'AES-192-CBC'");
    expect(failure(() => new Encrypter({ key, cipher: "AES-128-CBC", keySource: "SECURELY_KEY" }))).toStartWith(
      "the app key from SECURELY_KEY is 32 bytes but AES-128-CBC needs 16",
    );
  });

  test("unserialize refuses PHP objects and broken lengths", () => {
    expect(failure(() => e.decrypt(e.encryptString('O:8:"stdClass":0:{}')))).toContain("PHP arrays and objects are not supported");
    expect(failure(() => e.decrypt(e.encryptString('s:9:"short";')))).toContain("length does not match");
    expect(failure(() => e.decrypt(e.encryptString("plain")))).toContain("not a PHP-serialized scalar");
  });
});

describe("keys", () => {
  test("parseKey reads base64: keys and raw keys, formatKey writes base64:", () => {
    const k = keyFor("AES-256-CBC");
    expect(parseKey(formatKey(k), "test")).toEqual(k);
    expect(parseKey("abcdefghijklmnop", "test").length).toBe(16);
    expect(() => parseKey("base64:***", "SECURELY_KEY")).toThrow("the app key from SECURELY_KEY is invalid: the text after base64: is not valid base64");
    expect(() => parseKey("  ", "SECURELY_KEY")).toThrow("is invalid: it is empty");
  });

  test("Encrypter.supported checks the key length against the cipher", () => {
    expect(Encrypter.supported(keyFor("AES-128-GCM"), "AES-128-GCM")).toBe(true);
    expect(Encrypter.supported(keyFor("AES-128-GCM"), "AES-256-GCM")).toBe(false);
    expect(Encrypter.supported(keyFor("AES-128-GCM"), "DES")).toBe(false);
  });
});
