import { expect, test } from "bun:test";
import { HeadParts } from "../../src/proxy/head-parts.ts";

test("a head's parts become one latin1 buffer, the body after them", () => {
  const h = new HeadParts().line("host", "a.test").addRange("xx x-name: caf\u00e9 yy", 3, 15).add("\r\n").add("\r\n");
  expect(h.text()).toBe("host: a.test\r\nx-name: caf\u00e9\r\n\r\n");
  const b = h.bytes(new Uint8Array([1, 2, 3]));
  // one byte per character (latin1), as header values were read
  expect(b.length).toBe(h.text().length + 3);
  expect(b[b.length - 3 - 4 - 1]).toBe(0xe9);
  expect([...b.subarray(b.length - 3)]).toEqual([1, 2, 3]);
  expect(new HeadParts().bytes().length).toBe(0);
});

test("bytesAround puts a request line before the header lines and the framing after them", () => {
  const lines = new HeadParts().line("host", "a.test");
  const b = lines.bytesAround(["GET", " ", "/p?q=1", " HTTP/1.1\r\n"], ["content-length: ", "5", "\r\n\r\n"]);
  expect(b.toString("latin1")).toBe("GET /p?q=1 HTTP/1.1\r\nhost: a.test\r\ncontent-length: 5\r\n\r\n");
});
