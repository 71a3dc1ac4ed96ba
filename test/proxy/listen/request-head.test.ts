/** The raw front's request-head parser: what it accepts, rejects and passes through. */
import { describe, expect, test } from "bun:test";
import { HeadParts } from "../../../src/proxy/head-parts.ts";
import { parseRequest, parseRequestHead, withFields, type RequestHead } from "../../../src/proxy/listen/request-head.ts";

const ok = (text: string): RequestHead => {
  const h = parseRequestHead(text);
  if (typeof h === "string") throw new Error(`unexpected error: ${h}`);
  return h;
};

describe("request head", () => {
  test("a simple GET: strings, lower-case names, trimmed values, joined repeats", () => {
    const h = ok("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A:  1 \r\nx-a: 2\r\nCookie: a=1\r\nCookie: b=2");
    expect([h.method, h.target, h.http10, h.length, h.close, h.passThrough, h.upgrade]).toEqual(["GET", "/a?b=1", false, -1, false, false, undefined]);
    // the common methods come back as constants; others as sent (case kept: methods are case-sensitive)
    expect(["POST / HTTP/1.1\r\nHost: x", "HEAD / HTTP/1.1\r\nHost: x", "PATCH / HTTP/1.1\r\nHost: x", "get / HTTP/1.1\r\nHost: x"].map((t) => ok(t).method)).toEqual(["POST", "HEAD", "PATCH", "get"]);
    expect(["GET /plain/path.txt HTTP/1.1\r\nHost: x", "GET /a.b/c HTTP/1.1\r\nHost: x"].map((t) => ok(t).passThrough)).toEqual([false, false]);
    expect(h.headers.get("x-a")).toBe("1, 2");
    expect(h.headers.get("cookie")).toBe("a=1; b=2");
    expect(h.headers.get("nope")).toBeNull();
    const seen: string[] = [];
    h.headers.forEach((v, k) => seen.push(`${k}=${v}`));
    expect(seen).toEqual(["host=x", "x-a=1", "x-a=2", "cookie=a=1", "cookie=b=2"]);
  });

  test("Content-Length, Connection: close, HTTP/1.0 keep-alive", () => {
    expect(ok("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nContent-Length: 12").length).toBe(12);
    expect(ok("GET / HTTP/1.1\r\nHost: x\r\nConnection: close").close).toBe(true);
    expect(ok("GET / HTTP/1.0").close).toBe(true);
    expect(ok("GET / HTTP/1.0\r\nConnection: keep-alive").close).toBe(false);
  });

  test("an Upgrade the front tunnels itself, and ones it passes through", () => {
    expect(ok("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket").upgrade).toBe("websocket");
    expect(ok("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket").passThrough).toBe(false);
    expect(ok("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket").passThrough).toBe(true);
    expect(ok("POST / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 3").passThrough).toBe(true);
  });

  test("a plain chunked body is the front's to decode; other codings and HTTP/1.0 are not", () => {
    expect(ok("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked")).toMatchObject({ chunked: true, passThrough: false, length: -1 });
    expect(ok("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked")).toMatchObject({ chunked: true, passThrough: false });
    for (const t of ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked"]) {
      expect([t, ok(t).chunked, ok(t).passThrough]).toEqual([t, false, true]);
    }
  });

  test("legal but unusual requests are passed through", () => {
    for (const t of [
      "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1",
      "CONNECT x:443 HTTP/1.1\r\nHost: x:443",
      "GET http://x/ HTTP/1.1\r\nHost: x",
      "OPTIONS * HTTP/1.1\r\nHost: x",
      "GET /a/../b HTTP/1.1\r\nHost: x",
      "GET /caf\xe9 HTTP/1.1\r\nHost: x",
      "GET /a\\b HTTP/1.1\r\nHost: x",
      "GET /a\tb HTTP/1.1\r\nHost: x",
      "GET /a/.hidden HTTP/1.1\r\nHost: x",
      "GET / HTTP/1.1",
      "GET / HTTP/2.0\r\nHost: x",
    ]) expect([t, ok(t).passThrough]).toEqual([t, true]);
  });

  test("malformed heads are errors", () => {
    for (const t of [
      "garbage",
      "GET  / HTTP/1.1",
      "GET / HTTP/1.1 extra",
      "G(T / HTTP/1.1",
      "GET /\x7f HTTP/1.1",
      "GET\x00 / HTTP/1.1",
      " GET / HTTP/1.1",
      "GET / HTTP/1.1\r",
      "GET / HTTP/x",
      "GET / HTTP/1.1\r\nNo colon",
      "GET / HTTP/1.1\r\nBad Name: x",
      "GET / HTTP/1.1\r\nName : x",
      "GET / HTTP/1.1\r\n folded: x",
      "GET / HTTP/1.1\r\nX: a\nY: b",
      "GET / HTTP/1.1\r\nX: a\rb",
      "GET / HTTP/1.1\r\nX: a\x00b",
      "POST / HTTP/1.1\r\nContent-Length: +4",
      "POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5",
      "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b",
    ]) expect([t, typeof parseRequestHead(t)]).toEqual([t, "string"]);
  });

  test("what is reported: a control anywhere first, then the request line, then the first bad field", () => {
    const CONTROL = "control character or bare CR/LF in the request head";
    for (const [t, want] of <[string, string][]>[
      ["G(T / HTTP/1.1\r\nNo colon\r\nX: \x01", CONTROL],
      ["GET\x01 / HTTP/1.1\r\nNo colon", CONTROL],
      ["GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\nX\x7f: y", CONTROL],
      ["GET / HTTP/1.1\r", CONTROL],
      ["GET / HTTP/1.1\r\nHost: x\nX: y", CONTROL],
      ["G(T / HTTP/1.1\r\nNo colon", "malformed request method"],
      ["GET / HTTP/1.1\r\nBad Name: x\r\nContent-Length: x", "malformed header name"],
      ["GET / HTTP/1.1\r\n:\r\nHost: x", "malformed header line"],
      ["GET / HTTP/1.1\r\n folded: x", "malformed header name"],
      ["GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2", "conflicting Content-Length headers"],
      ["GET / HTTP/1.1\r\nContent-Length: 1234567890123456", "invalid Content-Length"],
      ["GET / HTTP/1.1\r\nContent-Length: +1", "invalid Content-Length"],
      ["GET / HTTP/1.1\r\nContent-Length: ", "invalid Content-Length"],
    ]) expect([t, parseRequestHead(t)]).toEqual([t, want]);
    expect(ok("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 123456789012345").length).toBe(123456789012345);
    expect(ok("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 007").length).toBe(7);
  });

  test("a head in the middle of a read buffer: the same head, values read from its bytes", () => {
    const head = "GET /p?q=1 HTTP/1.1\r\nHost: a.test\r\nX-Long: " + "v".repeat(80) + "\r\nCookie: a=1";
    const buf = Buffer.from(`junk${head}\r\n\r\nPOST /next HTTP/1.1`, "latin1");
    const r = parseRequest(buf, 4, 4 + head.length);
    if (typeof r === "string") throw new Error(r);
    expect([r.method, r.target, r.headers.get("host"), r.headers.get("x-long"), r.headers.get("cookie")]).toEqual(["GET", "/p?q=1", "a.test", "v".repeat(80), "a=1"]);
    // the client's lines are passed on from the head's bytes, as sent
    const out = new HeadParts();
    r.headers.forwardLines(out, new Set(["host"]));
    expect(out.text()).toBe(`X-Long: ${"v".repeat(80)}\r\nCookie: a=1\r\n`);
    const line = withFields(buf, 4, 4 + head.indexOf("\r\n"), r.headers);
    expect(typeof line === "string" ? line : line.target).toBe("/p?q=1");
  });

  test("values read later are found again from the line: around the colon's whitespace, empty ones, deep in a large read", () => {
    const head = "GET / HTTP/1.1\r\nHost: h\r\nA:\t \tx y \t\r\nB:\r\nC:   \r\nD:z\r\nE: a:b";
    const buf = Buffer.concat([Buffer.alloc(300_000, 97), Buffer.from(`${head}\r\n\r\n`, "latin1")]);
    const r = parseRequest(buf, 300_000, 300_000 + head.length);
    if (typeof r === "string") throw new Error(r);
    expect(["a", "b", "c", "d", "e"].map((n) => r.headers.get(n))).toEqual(["x y", "", "", "z", "a:b"]);
    const out = new HeadParts();
    r.headers.forwardLines(out, new Set(["host", "b"]));
    expect(out.text()).toBe("A:\t \tx y\r\nC:   \r\nD:z\r\nE: a:b\r\n");
  });

  test("a head and fields refilled by a later head (parseRequest's spares) hold only that head: line, names, values, framing, the kept block", () => {
    const a = Buffer.from("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\nCookie: x=1\r\nUpgrade: y", "latin1");
    const first = parseRequest(a, 0, a.length);
    if (typeof first === "string") throw new Error(first);
    const spare = first.headers;
    expect([spare.get("cookie"), spare.get("upgrade")]).toEqual(["x=1", "y"]);
    spare.builtBlock(spare, "p", false, undefined, new HeadParts().add("x"));
    spare.builtBlock(spare, "p", false, undefined, new HeadParts().add("x"));
    expect(spare.upstreamBlock(spare, "p", false, undefined)).toBeDefined();
    const b = Buffer.from("GET /b HTTP/1.1\r\nHost: b\r\nAccept: */*", "latin1");
    const second = parseRequest(b, 0, b.length, spare, first);
    if (typeof second === "string") throw new Error(second);
    expect(second).toBe(first);
    expect(second.headers).toBe(spare);
    expect([second.method, second.target, second.length, second.close, second.upgrade, spare.connClose, spare.upgrades]).toEqual(["GET", "/b", -1, false, undefined, false, 0]);
    const seen: string[] = [];
    spare.forEach((v, n) => seen.push(`${n}=${v}`));
    expect(seen).toEqual(["host=b", "accept=*/*"]);
    expect([spare.get("cookie"), spare.get("upgrade")]).toEqual([null, null]);
    expect(spare.upstreamBlock(spare, "p", false, undefined)).toBeUndefined();
  });

  test("forwardLines: the kept lines as sent, runs of them in one range; dropped lines, `also` names and trailing whitespace cut them", () => {
    const head = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nHost: h\r\nC: 3  \r\nD:4\r\nConnection: close, x-private\r\nX-Private: s\r\nE: 5\r\nF: 6";
    const b = Buffer.from(head, "latin1");
    const r = parseRequest(b, 0, b.length);
    if (typeof r === "string") throw new Error(r);
    const out = new HeadParts();
    r.headers.forwardLines(out, new Set(["host", "connection"]), new Set(["x-private"]));
    expect(out.text()).toBe("A: 1\r\nB: 2\r\nC: 3\r\nD:4\r\nE: 5\r\nF: 6\r\n");
    // one range per run: A-B, C (its value ends before the spaces), D, E-F
    expect((out as unknown as { parts: unknown[] }).parts.filter((p) => p instanceof Uint8Array).length).toBe(4);
    const none = new HeadParts();
    r.headers.forwardLines(none, new Set(["a", "b", "host", "c", "d", "connection", "x-private", "e", "f"]));
    expect(none.text()).toBe("");
  });

  test("fields parsed once and reused under a new request line give the same head as a whole parse", () => {
    // what the raw front does when a keep-alive client sends the same fields with a new request line
    const lines = ["GET /a HTTP/1.1", "POST /b?x=1 HTTP/1.1", "GET / HTTP/1.0", "HEAD /c HTTP/1.1", "CONNECT x:443 HTTP/1.1", "GET http://x/ HTTP/1.1", "GET / HTTP/2.0", "GET  / HTTP/1.1", "G(T / HTTP/1.1", "GET / HTTP/x", "GET /\x01 HTTP/1.1", "GET / HTTP/1.1\nX: y"];
    const blocks = [
      "Host: x\r\nUser-Agent: t",
      "Host: x\r\nConnection: keep-alive",
      "Host: x\r\nConnection: close",
      "Host: x\r\nConnection: keep-alive\r\nConnection: close",
      "Host: x\r\nContent-Length: 5",
      "Host: x\r\nTransfer-Encoding: chunked",
      "Host: x\r\nConnection: Upgrade\r\nUpgrade: websocket",
      "Host: x\r\nUpgrade: a\r\nUpgrade: b\r\nConnection: upgrade",
      "Host: x\r\nExpect: 100-continue",
      "User-Agent: no host",
      "Host: a\r\nHost: b",
      "Host: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked",
    ];
    let compared = 0;
    for (const block of blocks) {
      const firstBytes = Buffer.from(`GET /first HTTP/1.1\r\n${block}`, "latin1");
      const first = parseRequest(firstBytes, 0, firstBytes.length);
      if (typeof first === "string") continue; // fields a whole parse refuses are never reused
      for (const line of lines) {
        const whole = parseRequestHead(`${line}\r\n${block}`);
        const lineBytes = Buffer.from(line, "latin1");
        const reused = withFields(lineBytes, 0, lineBytes.length, first.headers);
        expect([line, block, typeof reused === "string" ? reused : { ...reused, headers: reused.headers.get("host") }]).toEqual([line, block, typeof whole === "string" ? whole : { ...whole, headers: whole.headers.get("host") }]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });
});
