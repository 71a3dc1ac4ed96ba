/**
 * Pieces of the raw front's response heads: the Date value, an upstream head's header lines
 * (cached on the parsed head, which the parser's cache shares), and one-copy latin1 buffers
 * (header text holds one char per byte).
 */
import { STATUS_CODES } from "node:http";
import type { ResponseHead } from "../upstream/h1-parser.ts";

let dateText = "";
let dateSecond = 0;
/** The Date header value, formatted once a second. */
export function httpDate(): string {
  const s = Math.floor(Date.now() / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(s * 1000).toUTCString();
  }
  return dateText;
}

export function forwardText(head: ResponseHead, dropServer: boolean): string {
  if (dropServer) {
    if (head.forwardTextNoServer !== undefined) return head.forwardTextNoServer;
  } else if (head.forwardText !== undefined) return head.forwardText;
  let s = "";
  for (const [k, v] of head.forward) if (!dropServer || k.toLowerCase() !== "server") s += `${k}: ${v}\r\n`;
  return dropServer ? (head.forwardTextNoServer = s) : (head.forwardText = s);
}

export function latin1(s: string, extra?: Uint8Array): Buffer {
  const n = s.length;
  const b = Buffer.allocUnsafe(n + (extra?.byteLength ?? 0));
  b.write(s, 0, n, "latin1");
  if (extra) b.set(extra, n);
  return b;
}

/** An HTTP/1.1 status line; the standard reason phrase when none is given. */
export function formatStatusLine(status: number, reason: string): string {
  return `HTTP/1.1 ${status} ${reason || STATUS_CODES[status] || ""}\r\n`;
}

/** The status line for an upstream's head (cached on the shared head: one string, made once). */
export function statusLine(head: ResponseHead): string {
  return (head.statusLine ??= formatStatusLine(head.status, head.statusText));
}

/**
 * Status line and forwarded header lines, as bytes: what the client's head starts with when nothing is
 * edited, copied into each answer with one memcpy (cached on the head, which the parser's cache shares).
 */
export function upstreamPrefix(head: ResponseHead, dropServer: boolean): Buffer {
  if (dropServer) return (head.prefixNoServer ??= Buffer.from(statusLine(head) + forwardText(head, true), "latin1"));
  return (head.prefix ??= Buffer.from(statusLine(head) + forwardText(head, false), "latin1"));
}
