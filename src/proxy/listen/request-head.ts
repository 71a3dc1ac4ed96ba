/**
 * The raw front's HTTP/1.1 request-head parser (RFC 9112 §2-3, §5-6), strict: anything malformed
 * is an error (400), and anything legal but unusual is flagged `passThrough` so the full Bun.serve
 * server handles it (transfer codings other than plain `chunked`, Expect, CONNECT, absolute-form or
 * `*` targets, dot segments, other HTTP versions, an Upgrade with a body or without
 * `Connection: upgrade`). The result holds plain strings only.
 */
import { BAD_HEAD_CHARS, TOKEN } from "../http-syntax.ts";
import type { HeadParts } from "../head-parts.ts";
import type { HeaderSource } from "../routing/table.ts";

/** The parsed header fields: lower-case names in order; `get` joins repeats as Bun's Headers does. */
export class RawHeaders implements HeaderSource {
  constructor(
    readonly names: string[],
    readonly values: string[],
    /** The head's text and where each field's line starts and ends in it (for forwardLines). */
    private readonly text = "",
    private readonly lines: number[] = [],
  ) {}

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
   * The fields' lines as the client sent them, but those named in `drop` or `also` (lower case),
   * onto `out`: passed on unchanged, they are never cut out of the head (see HeadParts.addRange).
   */
  forwardLines(out: HeadParts, drop: ReadonlySet<string>, also?: ReadonlySet<string>): void {
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      if (drop.has(n) || also?.has(n)) continue;
      out.addRange(this.text, this.lines[2 * i]!, this.lines[2 * i + 1]!).add("\r\n");
    }
  }

  /** `name` in any case, as with Headers (config names routes' headers as the user wrote them). */
  get(name: string): string | null {
    let out: string | null = null;
    name = asLower(name);
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      if (names[i] !== name) continue;
      const v = this.values[i]!;
      // RFC 9110 §5.3: repeats combine with ", " (Set-Cookie aside, which requests do not carry)
      out = out === null ? v : `${out}${name === "cookie" ? "; " : ", "}${v}`;
    }
    return out;
  }

  forEach(cb: (value: string, name: string) => void): void {
    const names = this.names;
    for (let i = 0; i < names.length; i++) cb(this.values[i]!, names[i]!);
  }
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

/**
 * The names clients send most, matched in the head's text without cutting the name out (a
 * substring is made — a malloc — as soon as it is looked up or tested): by length, case-insensitively.
 */
const COMMON: string[][] = [];
for (const n of ["host", "user-agent", "accept", "accept-encoding", "accept-language", "connection", "content-length", "content-type", "cookie", "referer", "origin", "authorization", "cache-control", "pragma", "upgrade-insecure-requests", "if-none-match", "if-modified-since", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "x-request-id", "x-requested-with", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "dnt", "priority", "te", "transfer-encoding", "upgrade", "expect", "range", "keep-alive"]) {
  (COMMON[n.length] ??= []).push(n);
}
function commonName(text: string, start: number, end: number): string | undefined {
  const list = COMMON[end - start];
  if (!list) return undefined;
  next: for (const n of list) {
    for (let i = 0; i < n.length; i++) {
      let c = text.charCodeAt(start + i);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== n.charCodeAt(i)) continue next;
    }
    return n;
  }
  return undefined;
}

/**
 * Header names as clients spell them → lower case. Clients repeat a handful of names, and a new
 * lower-case string per header per request cost a malloc (counted with a uprobe on Bun's malloc).
 * Bounded, so a client inventing names cannot grow it; keys are copies, so an entry does not keep
 * the request head it was cut from alive.
 */
const LOWER = new Map<string, string>();
function lowerName(raw: string): string {
  let lower = LOWER.get(raw);
  if (lower === undefined) {
    lower = raw.toLowerCase();
    if (LOWER.size >= 512) LOWER.clear();
    LOWER.set(` ${raw}`.slice(1), lower);
  }
  return lower;
}

/** The header fields of a head, parsed apart from its request line (a keep-alive client's next request often repeats them). */
export interface HeadFields {
  headers: RawHeaders;
  /** Content-Length, or -1. */
  length: number;
  hosts: number;
  te: boolean;
  /** Transfer-Encoding is exactly one `chunked`. */
  chunkedOnly: boolean;
  connUpgrade: boolean;
  /** A Connection value listed "close". */
  connClose: boolean;
  /** What the last Connection value that listed close or keep-alive said (HTTP/1.0 keeps the connection only on keep-alive). */
  connLast: "close" | "keep-alive" | undefined;
  upgrade: string | undefined;
  upgrades: number;
  expect: boolean;
}

/**
 * Parse a request head (the text before CRLFCRLF, leading empty lines already skipped).
 * Returns the head, or a string saying what is malformed.
 */
export function parseRequestHead(text: string): RequestHead | string {
  const r = parseRequest(text);
  return typeof r === "string" ? r : r.head;
}

/** parseRequestHead, with the fields parsed apart for reuse (see withFields). */
export function parseRequest(text: string): { head: RequestHead; fields: HeadFields } | string {
  if (BAD_HEAD_CHARS.test(text)) return "control character or bare CR/LF in the request head";
  let eol = text.indexOf("\r\n");
  if (eol < 0) eol = text.length;
  const line = text.slice(0, eol);
  const fields = parseFields(text, eol + 2);
  // the request line's errors are reported before the fields'
  if (typeof fields === "string") return requestLineError(line) ?? fields;
  const head = withFields(line, fields);
  return typeof head === "string" ? head : { head, fields };
}

/**
 * A head whose fields were parsed before (the same bytes after its request line, checked by the
 * caller): only the request line is new.
 */
export function withFields(requestLine: string, fields: HeadFields): RequestHead | string {
  // one pass over the line: controls (HTAB aside; a CR or LF in a line is a bare one), the two
  // spaces, and whether the target is one Bun.serve rewrites or that needs percent-encoding ("/.",
  // a backslash, bytes beyond 0x21-0x7e)
  let sp1 = -1;
  let sp2 = -1;
  let unusual = false;
  for (let i = 0, prev = 0; i < requestLine.length; i++) {
    const c = requestLine.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return "control character or bare CR/LF in the request head";
    if (c === 32) {
      if (sp1 < 0) sp1 = i;
      else if (sp2 < 0) sp2 = i;
    } else if (sp1 >= 0 && sp2 < 0 && (c < 33 || c > 126 || c === 92 || (c === 46 && prev === 47))) unusual = true;
    prev = c;
  }
  if (sp1 <= 0 || sp2 < 0 || sp2 === sp1 + 1) return "malformed request line";
  // the methods clients send most, as constants: no substring and no token test
  const known = sp1 === 3 && requestLine.startsWith("GET") ? "GET" : sp1 === 4 && requestLine.startsWith("POST") ? "POST" : sp1 === 4 && requestLine.startsWith("HEAD") ? "HEAD" : undefined;
  const method = known ?? requestLine.slice(0, sp1);
  if (!known && !TOKEN.test(method)) return "malformed request method";
  const target = requestLine.slice(sp1 + 1, sp2);
  let passThrough = false;
  let http10 = false;
  const version8 = requestLine.length - sp2 - 1 === 8;
  if (version8 && requestLine.startsWith("HTTP/1.0", sp2 + 1)) http10 = true;
  else if (!version8 || !requestLine.startsWith("HTTP/1.1", sp2 + 1)) {
    if (!/^HTTP\/\d\.\d$/.test(requestLine.slice(sp2 + 1))) return "malformed HTTP version";
    passThrough = true;
  }
  if (target[0] !== "/" || unusual || method === "CONNECT") passThrough = true;
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
  const close = http10 ? f.connLast !== "keep-alive" : f.connClose;
  return { method, target, http10, headers: f.headers, length: f.length, chunked, close, passThrough, upgrade: f.connUpgrade ? f.upgrade : undefined };
}

/** What is wrong with a request line, if anything (fields that cannot be wrong beside it). */
function requestLineError(line: string): string | undefined {
  const r = withFields(line, NO_FIELDS);
  return typeof r === "string" ? r : undefined;
}

/** The header lines from `pos` to the end of `text`: the fields, or a string saying what is malformed. */
function parseFields(text: string, pos: number): HeadFields | string {
  const names: string[] = [];
  const values: string[] = [];
  const lines: number[] = [];
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
  while (pos < text.length) {
    let end = text.indexOf("\r\n", pos);
    if (end < 0) end = text.length;
    const c = text.indexOf(":", pos);
    // no colon, an empty name, or whitespace before the colon / obs-fold (RFC 9112 §5.1-5.2)
    if (c <= pos || c > end) return "malformed header line";
    let name = commonName(text, pos, c);
    if (name === undefined) {
      const rawName = text.slice(pos, c);
      if (!TOKEN.test(rawName)) return "malformed header name";
      name = lowerName(rawName);
    }
    const lineStart = pos;
    let vs = c + 1;
    let ve = end;
    while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
    const value = text.slice(vs, ve);
    pos = end + 2;
    if (name === "content-length") {
      if (!/^\d{1,15}$/.test(value)) return "invalid Content-Length";
      const n = Number(value);
      if (length >= 0 && length !== n) return "conflicting Content-Length headers";
      // RFC 9112 §6.3: identical repeats stand for one value (kept once, so nothing joins them)
      if (length === n) continue;
      length = n;
    }
    names.push(name);
    values.push(value);
    lines.push(lineStart, ve);
    switch (name) {
      case "transfer-encoding":
        // one header saying exactly "chunked" is ours to decode; other codings or lists go to Bun.serve
        chunkedOnly = !te && value.toLowerCase() === "chunked";
        te = true;
        break;
      case "host":
        hosts++;
        break;
      case "connection": {
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
        upgrade = value;
        break;
      case "expect":
        expect = true;
        break;
    }
  }
  return { headers: new RawHeaders(names, values, text, lines), length, hosts, te, chunkedOnly, connUpgrade, connClose, connLast, upgrade, upgrades, expect };
}

const NO_FIELDS: HeadFields = { headers: new RawHeaders([], []), length: -1, hosts: 1, te: false, chunkedOnly: false, connUpgrade: false, connClose: false, connLast: undefined, upgrade: undefined, upgrades: 0, expect: false };
