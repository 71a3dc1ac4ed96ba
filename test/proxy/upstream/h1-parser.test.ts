import { describe, expect, test } from "bun:test";
import { ChunkedDecoder, forwardHeaders, parseHead, parseHeadCached } from "../../../src/proxy/upstream/h1-parser.ts";

describe("parseHead", () => {
  test("content-length framing and headers in order", () => {
    const h = parseHead("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2", "GET");
    expect(h.status).toBe(200);
    expect(h.framing).toEqual({ kind: "length", length: 5 });
    expect(h.headers).toEqual([["Content-Length", "5"], ["X-A", "1"], ["X-A", "2"]]);
    expect(h.close).toBe(false);
  });
  test("forward drops hop-by-hop and framing headers, whatever their case", () => {
    const h = parseHead("HTTP/1.1 200 OK\r\nCONNECTION: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\nContent-Type: text/plain\r\nTrailer: x\r\nUpgrade: h2c\r\nProxy-Connection: x\r\nX-A: 1", "GET");
    expect(h.forward).toEqual([["Content-Type", "text/plain"], ["X-A", "1"]]);
    expect([...forwardHeaders(h)]).toEqual([["content-type", "text/plain"], ["x-a", "1"]]);
  });
  test("the head cache returns the same parse for the same text, and keeps HEAD apart", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Cache-Test: 1";
    const a = parseHeadCached(text, "GET");
    expect(parseHeadCached(text, "GET")).toBe(a);
    const b = parseHeadCached(text, "HEAD");
    expect(b).not.toBe(a);
    expect(b.framing.kind).toBe("none");
    expect(a.framing).toEqual({ kind: "length", length: 3 });
    // large heads are not kept
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(5000)}`;
    expect(parseHeadCached(big, "GET")).not.toBe(parseHeadCached(big, "GET"));
    // interim responses are not cached
    expect(parseHeadCached("HTTP/1.1 100 Continue", "GET")).not.toBe(parseHeadCached("HTTP/1.1 100 Continue", "GET"));
  });
  test("chunked wins, HEAD/204/304 have no body, no framing means read until close", () => {
    expect(parseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", "GET").framing.kind).toBe("chunked");
    expect(parseHead("HTTP/1.1 200 OK\r\nContent-Length: 9", "HEAD").framing.kind).toBe("none");
    expect(parseHead("HTTP/1.1 304 Not Modified", "GET").framing.kind).toBe("none");
    const h = parseHead("HTTP/1.1 200 OK", "GET");
    expect(h.framing.kind).toBe("close");
    expect(h.close).toBe(true);
  });
  test("rejects conflicting content-lengths and garbage", () => {
    expect(() => parseHead("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6", "GET")).toThrow(/Content-Length/);
    expect(() => parseHead("HTTP/1.1 200 OK\r\nContent-Length: -1", "GET")).toThrow(/Content-Length/);
    expect(() => parseHead("FTP 200", "GET")).toThrow(/status line/);
    expect(() => parseHead("HTTP/1.1 200 OK\r\nno-colon", "GET")).toThrow(/header line/);
  });
  test("status line with a multi-word reason, or none", () => {
    expect(parseHead("HTTP/1.1 404 Not Found", "GET")).toMatchObject({ status: 404, statusText: "Not Found" });
    expect(parseHead("HTTP/1.1 204", "GET")).toMatchObject({ status: 204, statusText: "" });
    expect(() => parseHead("HTTP/1.1 20x OK", "GET")).toThrow(/status line/);
    expect(() => parseHead("HTTP/2.0 200 OK", "GET")).toThrow(/status line/);
  });
  test("Content-Length with Transfer-Encoding: chunked wins and the connection is not reused", () => {
    const h = parseHead("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked", "GET");
    expect(h.framing.kind).toBe("chunked");
    expect(h.close).toBe(true);
  });
  test("HTTP/1.0 closes unless keep-alive", () => {
    expect(parseHead("HTTP/1.0 200 OK\r\nContent-Length: 1", "GET").close).toBe(true);
    expect(parseHead("HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive", "GET").close).toBe(false);
  });
});

describe("ChunkedDecoder", () => {
  const enc = new TextEncoder();
  test("decodes across arbitrary splits, with extensions and trailers", () => {
    const wire = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
    for (let split = 1; split < wire.length; split++) {
      const d = new ChunkedDecoder();
      const out: Uint8Array[] = [];
      d.push(enc.encode(wire.slice(0, split)), out);
      const rest = d.push(enc.encode(wire.slice(split)), out);
      expect(rest).toBeUndefined();
      expect(d.done).toBe(true);
      expect(Buffer.concat(out).toString()).toBe("hello world");
      expect(d.trailers).toBe("X-Trailer: t\r\n");
    }
  });
  test("trailer fields: framing and routing ones dropped, malformed or oversized ones rejected", () => {
    const d = new ChunkedDecoder();
    d.push(enc.encode("0\r\nX-A: 1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nHost: h\r\nX-B:\t two \r\n\r\n"), []);
    expect(d.trailers).toBe("X-A: 1\r\nX-B: two\r\n");
    expect(() => new ChunkedDecoder().push(enc.encode("0\r\nno colon\r\n\r\n"), [])).toThrow(/invalid trailer field/);
    expect(() => new ChunkedDecoder().push(enc.encode("0\r\nBad Name: x\r\n\r\n"), [])).toThrow(/invalid trailer field/);
    expect(() => new ChunkedDecoder().push(enc.encode("0\r\nX: a\rb\r\n\r\n"), [])).toThrow(/invalid trailer field/);
    const big = Array.from({ length: 200 }, (_, i) => `X-${i}: ${"v".repeat(40)}\r\n`).join("");
    expect(() => new ChunkedDecoder().push(enc.encode(`0\r\n${big}\r\n`), [])).toThrow(/trailer section over 8192 bytes/);
  });
  test("rejects a bad size line", () => {
    expect(() => new ChunkedDecoder().push(enc.encode("zz\r\n"), [])).toThrow(/chunk size/);
  });
});
