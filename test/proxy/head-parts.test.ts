import { expect, test } from "bun:test";
import { HeadParts, staged } from "../../src/proxy/head-parts.ts";

test("a head's parts become one latin1 buffer, the body after them", () => {
  const h = new HeadParts().line("host", "a.test").addRange("xx x-name: caf\u00e9 yy", 3, 15).add("\r\n").add("\r\n");
  expect(h.text()).toBe("host: a.test\r\nx-name: caf\u00e9\r\n\r\n");
  const b = Buffer.from(staged().subarray(0, h.stage(new Uint8Array([1, 2, 3]))));
  // one byte per character (latin1), as header values were read
  expect(b.length).toBe(h.text().length + 3);
  expect(b[b.length - 3 - 4 - 1]).toBe(0xe9);
  expect([...b.subarray(b.length - 3)]).toEqual([1, 2, 3]);
  expect(new HeadParts().stage()).toBe(0);
});

test("stageRequest puts a request line before the header lines and the framing after them", () => {
  const lines = new HeadParts().line("host", "a.test");
  const n = lines.stageRequest("GET", "/p?q=1", ["content-length: ", "5", "\r\n\r\n"]);
  expect(staged().toString("latin1", 0, n)).toBe("GET /p?q=1 HTTP/1.1\r\nhost: a.test\r\ncontent-length: 5\r\n\r\n");
});

test("heads larger than the shared staging buffer are staged whole (grown, or a one-off past 64 KiB)", () => {
  for (const size of [100, 20_000, 70_000, 100]) {
    const v = "v".repeat(size);
    const n = new HeadParts().line("x", v).stage(new Uint8Array([7]));
    expect(n).toBe(size + 6);
    const b = staged();
    expect(b.toString("latin1", 0, 3)).toBe("x: ");
    expect(b[n - 1]).toBe(7);
    expect(b.toString("latin1", n - 3, n - 1)).toBe("\r\n");
  }
});

test("bytes parts (a cached prefix) are staged with the strings around them", () => {
  const h = new HeadParts().add("A").addBytes(Buffer.from("b\u00e9c", "latin1")).add("D");
  expect(h.text()).toBe("Ab\u00e9cD");
  const n = h.stage();
  expect(staged().toString("latin1", 0, n)).toBe("Ab\u00e9cD");
});
