import { expect, test } from "bun:test";
import { HeadParts, staged } from "../../src/proxy/head-parts.ts";

test("a head's parts become one latin1 buffer, the body after them", () => {
  const h = new HeadParts().line("host", "a.test").addBytes(Buffer.from("xx x-name: caf\u00e9 yy", "latin1"), 3, 15).add("\r\n").add("\r\n");
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

test("byte ranges are staged as they are: short ones, long ones, whole parts, views of a larger buffer", () => {
  const long = "x-long: " + "v".repeat(100);
  const src = Buffer.from(`..a: 1\r\n${long}\r\n..`, "latin1");
  const view = new Uint8Array(src.buffer, src.byteOffset + 2, src.length - 4); // a plain Uint8Array view
  const h = new HeadParts()
    .addBytes(src, 2, 6).add("\r\n") // short: "a: 1"
    .addBytes(src, 8, 8 + long.length).add("\r\n") // long, from a Buffer
    .addBytes(view, 6, 6 + long.length).add("\r\n") // long, from a Uint8Array at an offset
    .addBytes(Buffer.from("z: 2\r\n")); // whole
  const want = `a: 1\r\n${long}\r\n${long}\r\nz: 2\r\n`;
  expect(h.text()).toBe(want);
  expect(staged().toString("latin1", 0, h.stage())).toBe(want);
});

test("a spare HeadParts keeps nothing of the head it held", () => {
  const h = HeadParts.take().addBytes(Buffer.alloc(1000), 0, 10);
  HeadParts.give(h);
  const again = HeadParts.take();
  expect(again).toBe(h);
  expect(again.text()).toBe("");
});
