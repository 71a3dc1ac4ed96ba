/**
 * Incremental HTTP/1.1 response parsing (RFC 9112): the head, then the body framed by
 * Content-Length, chunked coding, or connection close. No I/O; the connection feeds bytes in.
 */

export interface ResponseHead {
  status: number;
  statusText: string;
  headers: [string, string][];
  /** Framing of the body that follows. */
  framing: { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };
  /** The upstream asked to close the connection after this response. */
  close: boolean;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");
export const MAX_RESPONSE_HEAD = 64 * 1024;

/** Parse a complete response head (without the final CRLFCRLF). Throws on malformed input. */
export function parseHead(text: string, method: string): ResponseHead {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
  if (!m) throw new Error(`malformed status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const status = Number(m[2]);
  const headers: [string, string][] = [];
  let length: number | undefined;
  let chunked = false;
  let close = m[1] === "0";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const c = line.indexOf(":");
    if (c <= 0) throw new Error(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, c).trim();
    const value = line.slice(c + 1).trim();
    const lower = name.toLowerCase();
    if (lower === "content-length") {
      if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value))) throw new Error(`invalid Content-Length ${JSON.stringify(value)}`);
      length = Number(value);
    } else if (lower === "transfer-encoding") {
      chunked = /(^|,)\s*chunked\s*$/i.test(value);
    } else if (lower === "connection") {
      const v = value.toLowerCase();
      if (v.includes("close")) close = true;
      else if (v.includes("keep-alive") && m[1] === "0") close = false;
    }
    headers.push([name, value]);
  }
  let framing: ResponseHead["framing"];
  if (method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)) framing = { kind: "none" };
  else if (chunked) framing = { kind: "chunked" };
  else if (length !== undefined) framing = length === 0 ? { kind: "none" } : { kind: "length", length };
  else framing = { kind: "close" };
  if (framing.kind === "close") close = true;
  return { status, statusText: m[3] ?? "", headers, framing, close };
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
      if (this.line.length > 4096) throw new Error("chunk size line too long");
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
    }
    return i < data.length ? data.subarray(i) : undefined;
  }
}
