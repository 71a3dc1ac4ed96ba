/**
 * The raw front's HTTP/1.1 request-head parser (RFC 9112 §2-3, §5-6), strict: anything malformed
 * is an error (400), and anything legal but unusual is flagged `passThrough` so the full Bun.serve
 * server handles it (transfer codings other than plain `chunked`, Expect, CONNECT, absolute-form or
 * `*` targets, dot segments, other HTTP versions, an Upgrade with a body or without
 * `Connection: upgrade`). It reads the bytes as they came from the socket: strings are cut out only
 * for what is read (the target, uncommon names, values when asked for).
 */
import type { HeadParts } from "../head-parts.ts";
import type { HeaderSource } from "../routing/table.ts";

/**
 * The parsed header fields of a head, apart from its request line (a keep-alive client's next
 * request often repeats them, see withFields): lower-case names in order, `get` joining repeats as
 * Bun's Headers does, and what the framing rules need to know of them. Values stay bytes of the
 * head until read: most are only passed on (forwardLines), and a string per value was a malloc and
 * a copy each. A head that never repeats is parsed on every request, and its parse was the largest
 * garbage such a request made: fields, their summary and the parse's result are one object, a
 * field's positions one number, and a connection refills one RawHeaders for the heads it does not
 * remember (`reuse`). JSC logGC, wrk c=64 with such heads: 1,380 → 885 bytes of garbage per request.
 */
export class RawHeaders implements HeaderSource {
  /** Content-Length, or -1. */
  length = -1;
  hosts = 0;
  te = false;
  /** Transfer-Encoding is exactly one `chunked`. */
  chunkedOnly = false;
  connUpgrade = false;
  /** A Connection value listed "close". */
  connClose = false;
  /** What the last Connection value that listed close or keep-alive said (HTTP/1.0 keeps the connection only on keep-alive). */
  connLast: "close" | "keep-alive" | undefined = undefined;
  upgrade: string | undefined = undefined;
  upgrades = 0;
  expect = false;

  /** Values already cut out, by field; made when the first one is (most heads never need one). */
  private vals: (string | undefined)[] | undefined = undefined;

  constructor(
    /** Lower-case names, in order. */
    readonly names: string[],
    /** The head's bytes, and per field where its line starts and its value ends in them (one number, see LINE). */
    private src: Buffer,
    readonly at: number[],
  ) {}

  /**
   * Empty again, over `src`, for parseFields to refill with the next head of the connection that
   * owned these fields (see RawConn.parseHead): its arrays keep their room. Only once nothing reads
   * the old head. (parseFields sets the summary.)
   */
  reuse(src: Buffer): this {
    this.names.length = 0;
    this.at.length = 0;
    if (this.vals) this.vals.length = 0;
    this.src = src;
    this.builds = 0;
    this.block = undefined;
    return this;
  }

  /** A value cut out while parsing. */
  cut(i: number, v: string): void {
    (this.vals ??= [])[i] = v;
  }

  /** The value of field `i`, cut out of the head the first time it is read. */
  private value(i: number): string {
    const vals = (this.vals ??= []);
    let v = vals[i];
    if (v === undefined) {
      const p = this.at[i]!;
      const start = lineStart(p);
      const src = this.src;
      let vs = start;
      while (src[vs] !== 58) vs++; // the line's first colon (the parse checked there is one)
      vs++;
      while (src[vs] === 32 || src[vs] === 9) vs++;
      v = vals[i] = src.toString("latin1", vs, Math.max(vs, (p - start * LINE) | 0));
    }
    return v;
  }

  /**
   * The upstream head's header block made from these fields, as bytes, for fields the client sends
   * again on its connection (see Exchange.build): undefined until they were used twice.
   */
  upstreamBlock(key: object, peerIp: string, tls: boolean, fallbackHost: string | undefined): Uint8Array | undefined {
    const b = this.block;
    return b && b.key === key && b.peerIp === peerIp && b.tls === tls && b.fallbackHost === fallbackHost ? b.bytes : undefined;
  }

  /** Called with each block built for these fields; from the second on, it is kept as bytes. */
  builtBlock(key: object, peerIp: string, tls: boolean, fallbackHost: string | undefined, block: HeadParts): void {
    if (++this.builds >= 2) this.block = { key, peerIp, tls, fallbackHost, bytes: Buffer.from(block.text(), "latin1") };
  }

  private builds = 0;
  private block?: { key: object; peerIp: string; tls: boolean; fallbackHost: string | undefined; bytes: Uint8Array };

  /**
   * The fields' lines as the client sent them (bytes of the head), but those named in `drop` or
   * `also` (lower case), onto `out`.
   */
  forwardLines(out: HeadParts, drop: ReadonlySet<string>, also?: ReadonlySet<string>): void {
    const { names, at } = this;
    // lines kept one after another in the head go out as one range of bytes (one copy, not one per line)
    let from = -1;
    let to = -3; // no line ends here: the first kept one starts a run
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      if (drop.has(n) || also?.has(n)) continue;
      const p = at[i]!;
      const start = lineStart(p);
      if (start !== to + 2) {
        if (from >= 0) out.addBytes(this.src, from, to).add("\r\n");
        from = start;
      }
      to = (p - start * LINE) | 0;
    }
    if (from >= 0) out.addBytes(this.src, from, to).add("\r\n");
  }

  /** `name` in any case, as with Headers (config names routes' headers as the user wrote them). */
  get(name: string): string | null {
    let out: string | null = null;
    name = asLower(name);
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      if (names[i] !== name) continue;
      const v = this.value(i);
      // RFC 9110 §5.3: repeats combine with ", " (Set-Cookie aside, which requests do not carry)
      out = out === null ? v : `${out}${name === "cookie" ? "; " : ", "}${v}`;
    }
    return out;
  }

  forEach(cb: (value: string, name: string) => void): void {
    const names = this.names;
    for (let i = 0; i < names.length; i++) cb(this.value(i), names[i]!);
  }
}

/**
 * A field's line start and value end in one number, `start * LINE + end` (its value's start is
 * found again when the value is read, which few are). Exact while positions stay below LINE:
 * max_header_size is at most 1m, and a head sits within a read of that. `| 0` keeps the parts
 * int32: a double `end` slowed HeadParts' byte copy of the line 2× (measured).
 */
const LINE = 2 ** 26;
function lineStart(p: number): number {
  return (p / LINE) | 0;
}

/** `name` in lower case; the pipeline asks with lower-case constants, which a scan returns as they are (no native call). */
function asLower(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return name.toLowerCase();
  }
  return name;
}

export interface RequestHead {
  method: string;
  target: string;
  http10: boolean;
  headers: RawHeaders;
  /** Content-Length, or -1 when the request has none. */
  length: number;
  /** The body is chunked (`Transfer-Encoding: chunked`, nothing else, HTTP/1.1): the front decodes it. */
  chunked: boolean;
  /** The client asked to close after this request (Connection: close, or HTTP/1.0 without keep-alive). */
  close: boolean;
  /** The Upgrade header's value when Connection lists "upgrade" (an HTTP Upgrade request). */
  upgrade?: string;
  /** Legal, but for the full server (see the file comment). */
  passThrough: boolean;
}

/** The names clients send most, matched in the head's bytes (no string made): by length, case-insensitively. */
const COMMON: string[][] = [];
for (const n of ["host", "user-agent", "accept", "accept-encoding", "accept-language", "connection", "content-length", "content-type", "cookie", "referer", "origin", "authorization", "cache-control", "pragma", "upgrade-insecure-requests", "if-none-match", "if-modified-since", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "x-request-id", "x-requested-with", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "dnt", "priority", "te", "transfer-encoding", "upgrade", "expect", "range", "keep-alive"]) {
  (COMMON[n.length] ??= []).push(n);
}
function commonName(buf: Buffer, start: number, end: number): string | undefined {
  const list = COMMON[end - start];
  if (!list) return undefined;
  next: for (const n of list) {
    for (let i = 0; i < n.length; i++) {
      // names hold letters and "-" only: OR 0x20 lowers a letter, and no other byte of a name
      // (CR, which would also become "-", ends the line before the name is read)
      if ((buf[start + i]! | 0x20) !== n.charCodeAt(i)) continue next;
    }
    return n;
  }
  return undefined;
}

/** tchar (RFC 9110 §5.6.2) by byte: methods and field names. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;
function isToken(buf: Buffer, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) if (TCHAR[buf[i]!] === 0) return false;
  return true;
}

/** buf[at, at + s.length) is `s`, byte for byte. */
function bytesAre(buf: Buffer, at: number, end: number, s: string): boolean {
  if (end - at < s.length) return false;
  for (let i = 0; i < s.length; i++) if (buf[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * Header names as clients spell them → lower case. Clients repeat a handful of names, and a new
 * lower-case string per header per request cost a malloc (counted with a uprobe on Bun's malloc).
 * Bounded, so a client inventing names cannot grow it.
 */
const LOWER = new Map<string, string>();
function lowerName(raw: string): string {
  let lower = LOWER.get(raw);
  if (lower === undefined) {
    lower = raw.toLowerCase();
    if (LOWER.size >= 512) LOWER.clear();
    LOWER.set(raw, lower);
  }
  return lower;
}

const CONTROL = "control character or bare CR/LF in the request head";

/** A control other than HTAB, or a CR or LF outside a CRLF pair, in buf[from, end) (`end` is where the head ends). */
function hasControl(buf: Buffer, from: number, end: number): boolean {
  for (let i = from; i < end; i++) {
    const c = buf[i]!;
    if (c === 13 && i + 1 < end && buf[i + 1] === 10) i++;
    else if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

/**
 * Parse a request head given as latin1 text, one byte per character (leading empty lines already
 * skipped), for tests and tools: the front parses bytes (parseRequest).
 */
export function parseRequestHead(text: string): RequestHead | string {
  const b = Buffer.from(text, "latin1");
  return parseRequest(b, 0, b.length);
}

/**
 * The request head in buf[start, end) (the bytes before CRLFCRLF, leading empty lines skipped),
 * its fields (`headers`) reusable under another request line (see withFields); or a string saying
 * what is malformed. What the head references stays in `buf`, which must not change afterwards.
 * `spareFields` and `spareHead`, when given, are refilled rather than new ones made (see
 * RawConn.parseHead): nothing may read what they held.
 */
export function parseRequest(buf: Buffer, start: number, end: number, spareFields?: RawHeaders, spareHead?: RequestHead): RequestHead | string {
  let eol = start;
  while (eol < end && buf[eol] !== 13) eol++;
  if (eol < end && (eol + 1 >= end || buf[eol + 1] !== 10)) return CONTROL;
  const fields = parseFields(buf, Math.min(eol + 2, end), end, spareFields ? spareFields.reuse(buf) : new RawHeaders([], buf, []));
  // what is wrong: a control anywhere first, then the request line, then the fields in order
  if (typeof fields === "string") return fields === CONTROL ? fields : (requestLineError(buf, start, eol) ?? fields);
  return withFields(buf, start, eol, fields, spareHead);
}

/**
 * The request line in buf[start, eol) over fields parsed before (the same bytes after the line,
 * checked by the caller): only the request line is new. The head is `into`, refilled, when given.
 */
export function withFields(buf: Buffer, start: number, eol: number, fields: RawHeaders, into: RequestHead = blankHead()): RequestHead | string {
  // one pass over the line: controls (HTAB aside; a CR or LF in a line is a bare one), the two
  // spaces, and whether the target is one Bun.serve rewrites or that needs percent-encoding ("/.",
  // a backslash, bytes beyond 0x21-0x7e)
  let sp1 = -1;
  let sp2 = -1;
  let unusual = false;
  for (let i = start, prev = 0; i < eol; i++) {
    const c = buf[i]!;
    if ((c < 32 && c !== 9) || c === 127) return CONTROL;
    if (c === 32) {
      if (sp1 < 0) sp1 = i;
      else if (sp2 < 0) sp2 = i;
    } else if (sp1 >= 0 && sp2 < 0 && (c < 33 || c > 126 || c === 92 || (c === 46 && prev === 47))) unusual = true;
    prev = c;
  }
  if (sp1 <= start || sp2 < 0 || sp2 === sp1 + 1) return "malformed request line";
  // the methods clients send most, as constants: no string cut out
  const m = sp1 - start;
  const known = m === 3 && bytesAre(buf, start, sp1, "GET") ? "GET" : m === 4 && bytesAre(buf, start, sp1, "POST") ? "POST" : m === 4 && bytesAre(buf, start, sp1, "HEAD") ? "HEAD" : undefined;
  if (!known && !isToken(buf, start, sp1)) return "malformed request method";
  const method = known ?? buf.toString("latin1", start, sp1);
  const target = buf.toString("latin1", sp1 + 1, sp2);
  let passThrough = false;
  let http10 = false;
  const version8 = eol - sp2 - 1 === 8;
  if (version8 && bytesAre(buf, sp2 + 1, eol, "HTTP/1.0")) http10 = true;
  else if (!version8 || !bytesAre(buf, sp2 + 1, eol, "HTTP/1.1")) {
    if (!version8 || !bytesAre(buf, sp2 + 1, eol, "HTTP/") || !isDigit(buf[sp2 + 6]!) || buf[sp2 + 7] !== 46 || !isDigit(buf[sp2 + 8]!)) return "malformed HTTP version";
    passThrough = true;
  }
  if (buf[sp1 + 1] !== 47 || unusual || method === "CONNECT") passThrough = true;
  const f = fields;
  // RFC 9112 §6.1: a request with both is a smuggling shape; the proxy refuses it
  if (f.te && f.length >= 0) return "both Transfer-Encoding and Content-Length";
  if (f.hosts > 1) return "more than one Host header";
  const chunked = f.te && f.chunkedOnly && !http10;
  if ((f.te && !chunked) || f.expect || (f.hosts === 0 && !http10) || f.upgrades > 1) passThrough = true;
  // an Upgrade the front can tunnel itself: HTTP/1.1, no body; anything else goes to Bun.serve
  if (f.upgrade !== undefined || f.connUpgrade) {
    if (!f.connUpgrade || f.upgrade === undefined || f.upgrade === "" || http10 || f.length > 0 || f.te) passThrough = true;
  }
  // HTTP/1.0 closes unless its last say was keep-alive; HTTP/1.1 only when asked to
  const h = into;
  h.method = method;
  h.target = target;
  h.http10 = http10;
  h.headers = f;
  h.length = f.length;
  h.chunked = chunked;
  h.close = http10 ? f.connLast !== "keep-alive" : f.connClose;
  h.passThrough = passThrough;
  h.upgrade = f.connUpgrade ? f.upgrade : undefined;
  return h;
}

/** A head for withFields to fill (every field set, so every head has one shape). */
function blankHead(): RequestHead {
  return { method: "", target: "", http10: false, headers: NO_FIELDS, length: -1, chunked: false, close: false, passThrough: false, upgrade: undefined };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** What is wrong with a request line, if anything (fields that cannot be wrong beside it). */
function requestLineError(buf: Buffer, start: number, eol: number): string | undefined {
  const r = withFields(buf, start, eol, NO_FIELDS);
  return typeof r === "string" ? r : undefined;
}

/** What a byte is to parseFields' line scan: 0 (part of the line), COLON, CR (the line ends), or a control. */
const COLON = 1;
const CR = 2;
const LINE_BYTE = new Uint8Array(256);
for (let c = 0; c < 32; c++) LINE_BYTE[c] = 3;
LINE_BYTE[9] = 0;
LINE_BYTE[127] = 3;
LINE_BYTE[58] = COLON;
LINE_BYTE[13] = CR;

/** The header lines in buf[pos, end): the fields, or a string saying what is malformed (CONTROL before anything else). */
function parseFields(buf: Buffer, pos: number, end: number, h: RawHeaders): RawHeaders | string {
  const { names, at } = h;
  let length = -1;
  let hosts = 0;
  let te = false;
  let chunkedOnly = false;
  let connUpgrade = false;
  let connClose = false;
  let connLast: "close" | "keep-alive" | undefined;
  let upgrade: string | undefined;
  let upgrades = 0;
  let expect = false;
  while (pos < end) {
    // the line: its first colon, its end (CR), and no controls in it
    let colon = -1;
    let eol = pos;
    for (; eol < end; eol++) {
      const k = LINE_BYTE[buf[eol]!]!;
      if (k === 0) continue;
      if (k === COLON) {
        if (colon < 0) colon = eol;
      } else if (k === CR) break;
      else return CONTROL;
    }
    if (eol < end && (eol + 1 >= end || buf[eol + 1] !== 10)) return CONTROL;
    // no colon, an empty name, or whitespace before the colon / obs-fold (RFC 9112 §5.1-5.2)
    if (colon <= pos) return malformed(buf, "malformed header line", eol, end);
    let name = commonName(buf, pos, colon);
    if (name === undefined) {
      if (!isToken(buf, pos, colon)) return malformed(buf, "malformed header name", eol, end);
      name = lowerName(buf.toString("latin1", pos, colon));
    }
    const from = pos;
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && (buf[vs] === 32 || buf[vs] === 9)) vs++;
    while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    pos = eol + 2;
    let value: string | undefined;
    switch (name) {
      case "content-length": {
        let n = 0;
        for (let i = vs; i < ve; i++) {
          const c = buf[i]!;
          if (!isDigit(c)) return malformed(buf, "invalid Content-Length", pos, end);
          n = n * 10 + (c - 48);
        }
        if (ve === vs || ve - vs > 15) return malformed(buf, "invalid Content-Length", pos, end);
        if (length >= 0 && length !== n) return malformed(buf, "conflicting Content-Length headers", pos, end);
        // RFC 9112 §6.3: identical repeats stand for one value (kept once, so nothing joins them)
        if (length === n) continue;
        length = n;
        break;
      }
      case "transfer-encoding":
        // one header saying exactly "chunked" is ours to decode; other codings or lists go to Bun.serve
        chunkedOnly = !te && ve - vs === 7 && isChunked(buf, vs);
        te = true;
        break;
      case "host":
        hosts++;
        break;
      case "connection": {
        value = buf.toString("latin1", vs, ve);
        const v = value.toLowerCase();
        if (v.includes("close")) {
          connClose = true;
          connLast = "close";
        } else if (v.includes("keep-alive")) connLast = "keep-alive";
        if (v.includes("upgrade")) connUpgrade = true;
        break;
      }
      case "upgrade":
        upgrades++;
        upgrade = value = buf.toString("latin1", vs, ve);
        break;
      case "expect":
        expect = true;
        break;
    }
    if (value !== undefined) h.cut(names.length, value);
    names.push(name);
    at.push(from * LINE + ve);
  }
  h.length = length;
  h.hosts = hosts;
  h.te = te;
  h.chunkedOnly = chunkedOnly;
  h.connUpgrade = connUpgrade;
  h.connClose = connClose;
  h.connLast = connLast;
  h.upgrade = upgrade;
  h.upgrades = upgrades;
  h.expect = expect;
  return h;
}

/** `what` is wrong with a header line, unless a control follows in buf[from, end): that is reported first. */
function malformed(buf: Buffer, what: string, from: number, end: number): string {
  return hasControl(buf, from, end) ? CONTROL : what;
}

/** buf[at, at + 7) is "chunked" in any case. */
function isChunked(buf: Buffer, at: number): boolean {
  const s = "chunked";
  for (let i = 0; i < 7; i++) if ((buf[at + i]! | 0x20) !== s.charCodeAt(i)) return false;
  return true;
}

/** Fields that cannot be wrong beside any request line (one Host). */
const NO_FIELDS = new RawHeaders([], Buffer.alloc(0), []);
NO_FIELDS.hosts = 1;
