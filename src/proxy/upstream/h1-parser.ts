/**
 * Incremental HTTP/1.1 response parsing (RFC 9112): the head, then the body framed by
 * Content-Length, chunked coding, or connection close. No I/O; the connection feeds bytes in.
 */

import { BAD_HEAD_CHARS, FIELD_VALUE, TOKEN } from "../http-syntax.ts";
import { connectionOptions } from "../request-helpers.ts";

export interface ResponseHead {
  status: number;
  statusText: string;
  headers: [string, string][];
  /** `headers` without the hop-by-hop and framing ones (what the proxy passes on to its client). */
  forward: [string, string][];
  /** `forward` as a Headers object, built on first use (heads are shared through the cache below). */
  forwardHeaders?: Headers;
  /** `forward` as header lines for the raw front, built on first use (and without Server, for `server_header`). */
  forwardText?: string;
  forwardTextNoServer?: string;
  /** The raw front's status line, and status line + forwardText(NoServer) as latin1 bytes, built on first use. */
  statusLine?: string;
  prefix?: Buffer;
  prefixNoServer?: Buffer;
  /** Framing of the body that follows. */
  framing: { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };
  /** The upstream asked to close the connection after this response. */
  close: boolean;
  /** The upstream sent a Date (RFC 9110 §6.6.1: otherwise the proxy adds one). */
  hasDate: boolean;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");
/** Hop-by-hop (RFC 9110 §7.6.1) and framing headers: never forwarded to the client. */
const HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length", "trailer"]);
export const MAX_RESPONSE_HEAD = 64 * 1024;
const NONE = Object.freeze({ kind: "none" as const });
const CHUNKED = Object.freeze({ kind: "chunked" as const });
const CLOSE = Object.freeze({ kind: "close" as const });

/** Parse a complete response head (without the final CRLFCRLF). Throws on malformed input. */
export function parseHead(text: string, method: string): ResponseHead {
  // the raw front writes these bytes to its client as they are: a bare CR or LF, NUL or another
  // control would let an upstream split the response for a lenient client (parseHeadCached
  // runs this once per distinct head, so the regex costs nothing per request)
  if (BAD_HEAD_CHARS.test(text)) throw new Error("control character or bare CR/LF in the response head");
  // hand-rolled scanning: this runs once per proxied request (split + regex cost ~5% CPU, measured)
  let eol = text.indexOf("\r\n");
  if (eol < 0) eol = text.length;
  const line0 = text.slice(0, eol);
  if (line0.length < 12 || !line0.startsWith("HTTP/1.") || line0[9 - 1] !== " " || (line0[7] !== "1" && line0[7] !== "0")) {
    throw new Error(`malformed status line ${JSON.stringify(line0.slice(0, 80))}`);
  }
  const status = Number(line0.slice(9, 12));
  if (!Number.isInteger(status) || status < 100 || (line0.length > 12 && line0[12] !== " ")) throw new Error(`malformed status line ${JSON.stringify(line0.slice(0, 80))}`);
  const http10 = line0[7] === "0";
  const headers: [string, string][] = [];
  const forward: [string, string][] = [];
  let length: number | undefined;
  let chunked = false;
  let close = http10;
  let hasDate = false;
  let pos = eol + 2;
  while (pos < text.length) {
    let end = text.indexOf("\r\n", pos);
    if (end < 0) end = text.length;
    const c = text.indexOf(":", pos);
    if (c <= pos || c > end) throw new Error(`malformed header line ${JSON.stringify(text.slice(pos, Math.min(end, pos + 80)))}`);
    const name = text.slice(pos, c);
    if (!TOKEN.test(name)) throw new Error(`malformed header name ${JSON.stringify(name.slice(0, 80))}`);
    const value = text.slice(c + 1, end).trim();
    pos = end + 2;
    const pair: [string, string] = [name, value];
    headers.push(pair);
    const f = name.charCodeAt(0) | 0x20;
    if (f === 100 /* d */ && name.length === 4 && name.toLowerCase() === "date") hasDate = true;
    // only names starting with c, k, p, t or u can be hop-by-hop: lower-case just those
    if (f !== 99 /* c */ && f !== 107 /* k */ && f !== 112 /* p */ && f !== 116 /* t */ && f !== 117 /* u */) {
      forward.push(pair);
      continue;
    }
    const lower = name.toLowerCase();
    if (!HOP.has(lower)) forward.push(pair);
    if (lower === "content-length") {
      if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value))) throw new Error(`invalid Content-Length ${JSON.stringify(value)}`);
      length = Number(value);
    } else if (lower === "transfer-encoding") {
      chunked = /(^|,)\s*chunked\s*$/i.test(value);
    } else if (lower === "connection") {
      const v = value.toLowerCase();
      if (v.includes("close")) close = true;
      else if (v.includes("keep-alive") && http10) close = false;
    }
  }
  // headers the upstream's Connection header names are hop-by-hop too (RFC 9110 §7.6.1)
  const named = connectionOptions(headers.find(([k]) => k.length === 10 && k.toLowerCase() === "connection")?.[1] ?? null);
  const passed = named ? forward.filter(([k]) => !named.has(k.toLowerCase())) : forward;
  let framing: ResponseHead["framing"];
  if (method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)) framing = NONE;
  else if (chunked) framing = CHUNKED;
  else if (length !== undefined) framing = length === 0 ? NONE : { kind: "length", length };
  else framing = CLOSE;
  // read-until-close bodies end the connection; CL + TE together is a smuggling shape (RFC 9112
  // §6.3): chunked wins for this response and the connection is not reused
  if (framing.kind === "close" || (chunked && length !== undefined)) close = true;
  return { status, statusText: line0.length > 13 ? line0.slice(13) : "", headers, forward: passed, framing, close, hasDate };
}

/*
 * An upstream sends the same head over and over (it changes with Date once a second), and parsing
 * it and building its Headers cost about a microsecond per response. Parsed heads are cached by
 * their exact text (and whether the request was HEAD, which changes the framing); they are shared
 * and never modified. Small and cleared when full, so unique heads (request ids) cannot grow it.
 */
const cache = [new Map<string, ResponseHead>(), new Map<string, ResponseHead>()];
const CACHE_MAX = 64;
/** Larger heads (big cookies, long CSPs) are parsed each time: 64 of them must stay small in memory. */
const CACHE_MAX_TEXT = 4096;

/** parseHead through the cache (final responses up to 4 KiB of head; 1xx heads are rare and not cached). */
export function parseHeadCached(text: string, method: string): ResponseHead {
  const m = cache[method === "HEAD" ? 1 : 0]!;
  let head = m.get(text);
  if (head) return head;
  head = parseHead(text, method);
  if (isCacheable(head, text.length)) {
    if (m.size >= CACHE_MAX) m.clear();
    m.set(text, head);
  }
  return head;
}

/** A parsed head may be shared: a final response's, up to 4 KiB (1xx heads are rare). */
export function isCacheable(head: ResponseHead, length: number): boolean {
  return head.status >= 200 && length <= CACHE_MAX_TEXT;
}

/** The end-to-end headers as a Headers object (built once per cached head; `new Response` copies it). */
export function forwardHeaders(head: ResponseHead): Headers {
  return (head.forwardHeaders ??= new Headers(head.forward));
}

/** Index just past the head's CRLFCRLF in `buf`, or -1. */
export function headEnd(buf: Buffer): number {
  const i = buf.indexOf(CRLFCRLF);
  return i < 0 ? -1 : i + 4;
}

/**
 * Chunked-coding decoder. `push` returns the payload bytes found in `data` and whether the final
 * chunk (and trailers) ended; bytes after the end are returned as `rest` (must be none on a
 * well-behaved connection).
 */
export class ChunkedDecoder {
  private state: "size" | "data" | "data_crlf" | "trailer" = "size";
  private remaining = 0;
  private line = "";
  done = false;
  /** The trailer section's fields as header lines ("name: value\r\n" each), framing fields dropped. */
  trailers = "";
  private trailerBytes = 0;

  /**
   * `maxLine`: the longest size line (extensions included) or trailer line. Clients' bodies get a
   * short one: extensions are framing a client could otherwise send megabytes of per byte of body.
   */
  constructor(private readonly maxLine = 4096) {}

  push(data: Uint8Array, out: Uint8Array[]): Uint8Array | undefined {
    let i = 0;
    while (i < data.length && !this.done) {
      if (this.state === "data") {
        const n = Math.min(this.remaining, data.length - i);
        out.push(data.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = "data_crlf";
        continue;
      }
      // line-oriented states: size line, CRLF after data, trailer lines
      const nl = data.indexOf(10, i);
      const end = nl < 0 ? data.length : nl + 1;
      this.line += Buffer.from(data.subarray(i, end)).toString("latin1");
      if (this.line.length > this.maxLine) throw new Error(`chunk size or trailer line over ${this.maxLine} bytes`);
      i = end;
      if (nl < 0) break;
      const line = this.line.replace(/\r?\n$/, "");
      this.line = "";
      if (this.state === "data_crlf") {
        if (line !== "") throw new Error("missing CRLF after chunk data");
        this.state = "size";
      } else if (this.state === "size") {
        const m = /^([0-9a-fA-F]{1,15})(;.*)?$/.exec(line);
        if (!m) throw new Error(`invalid chunk size ${JSON.stringify(line.slice(0, 40))}`);
        this.remaining = parseInt(m[1]!, 16);
        this.state = this.remaining === 0 ? "trailer" : "data";
      } else if (line === "") this.done = true; // end of trailers
      else this.trailer(line);
    }
    return i < data.length ? data.subarray(i) : undefined;
  }

  /** One trailer field (RFC 9112 §7.1.2): kept unless it is framing or routing (RFC 9110 §6.5.1). */
  private trailer(line: string): void {
    // the whole section counts, dropped fields too: it is bytes a peer makes us read
    this.trailerBytes += line.length + 2;
    if (this.trailerBytes > MAX_TRAILERS) throw new Error(`trailer section over ${MAX_TRAILERS} bytes`);
    const c = line.indexOf(":");
    const name = c > 0 ? line.slice(0, c) : "";
    const value = line.slice(c + 1).trim();
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) throw new Error(`invalid trailer field ${JSON.stringify(line.slice(0, 40))}`);
    if (NOT_TRAILERS.has(name.toLowerCase())) return;
    this.trailers += `${name}: ${value}\r\n`;
  }
}

const MAX_TRAILERS = 8192;
/** Fields a trailer must not carry (framing, routing, authentication, caching controls). */
const NOT_TRAILERS = new Set(["content-length", "transfer-encoding", "host", "trailer", "te", "connection", "keep-alive", "upgrade", "content-encoding", "content-type", "content-range", "authorization", "set-cookie", "cache-control", "expect", "max-forwards", "pragma", "range"]);
