/**
 * What the pipeline answers: a Response (local answers, hooks, compression), or an upstream's
 * head and body passed on unchanged, which each front writes its own way — Bun.serve through a
 * Response, the raw front (listen/raw-front.ts) as one string without building any object.
 */
import type { H1Conn } from "./upstream/connection.ts";
import { forwardHeaders, type ResponseHead } from "./upstream/h1-parser.ts";

export interface Proxied {
  status: number;
  statusText: string;
  /** The upstream's parsed head (shared through the parser's cache: never modified). */
  head: ResponseHead;
  /** The end-to-end headers when they were edited (response_headers, sticky cookie); else `head.forward`. */
  headers?: Headers;
  /** Set over the others (rate-limit headers). */
  extra?: Record<string, string>;
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** A 101 to the raw front's Upgrade request: the upstream connection, now a byte tunnel. */
  upgraded?: H1Conn;
  /** A chunked body's trailer fields, known once the body ended (the raw front forwards them). */
  trailers?: { text: string };
}

export type Reply = Response | Proxied;

/** Headers set over a reply's own (rate-limit headers). */
export function withHeaders<R extends Reply>(r: R, h: Record<string, string>): R {
  if (r instanceof Response) for (const k in h) r.headers.set(k, h[k]!);
  else r.extra = h;
  return r;
}

export function toResponse(p: Proxied): Response {
  const r = new Response(p.body, { status: p.status, statusText: p.statusText, headers: p.headers ?? forwardHeaders(p.head) });
  if (p.extra) for (const k in p.extra) r.headers.set(k, p.extra[k]!);
  return r;
}

/** Body size for the access log, when known without reading the body. */
export function replyBytes(r: Reply): number | undefined {
  if (r instanceof Response) return r.headers.has("content-length") ? Number(r.headers.get("content-length")) : undefined;
  if (r.body instanceof Uint8Array) return r.body.byteLength;
  return r.head.framing.kind === "length" ? r.head.framing.length : r.body === null ? 0 : undefined;
}
