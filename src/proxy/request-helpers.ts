import type { HeaderSource } from "./routing/table.ts";

/** Small per-request helpers of the pipeline: plain-text answers, size checks, balancing keys. */

export function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

export function headSize(method: string, target: string, headers: HeaderSource): number {
  let n = method.length + target.length + 12;
  headers.forEach((v, k) => (n += k.length + v.length + 4));
  return n;
}

/**
 * Count body bytes of a chunked upload and fail the stream past `limit` (413). Hand-written, not
 * pipeThrough: the source failing (the client left) must reach our reader at once even while
 * nobody reads (see BodySource), and Bun's pipeThrough passes a source error on only with the
 * next read (measured, Bun 1.4.5).
 */
export function limitStream(s: ReadableStream<Uint8Array>, limit: number, onExceeded: () => void): ReadableStream<Uint8Array> {
  const reader = s.getReader();
  let n = 0;
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        reader.closed.catch((e) => {
          try {
            c.error(e);
          } catch {}
        });
      },
      async pull(c) {
        const r = await reader.read();
        if (r.done) return c.close();
        n += r.value.byteLength;
        if (n <= limit) return c.enqueue(r.value);
        onExceeded();
        const e = new Error(`request body over ${limit} bytes`);
        c.error(e);
        reader.cancel(e).catch(() => {});
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

export function hashKey(spec: string, f: { path: string; query: string; headers: HeaderSource; clientIp: string }): string {
  if (spec === "client_ip") return f.clientIp;
  if (spec === "uri") return f.query ? `${f.path}?${f.query}` : f.path;
  const i = spec.indexOf(":");
  const kind = spec.slice(0, i);
  const name = spec.slice(i + 1);
  if (kind === "header") return f.headers.get(name) ?? "";
  if (kind === "cookie") return cookieValue(f.headers.get("cookie"), name) ?? "";
  return new URLSearchParams(f.query).get(name) ?? "";
}

export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * The request's Content-Length: null when absent, NaN when invalid. Identical repeats, which a
 * Headers object joins ("5, 5"), count once (RFC 9112 §6.3); differing ones are NaN.
 */
export function declaredLength(h: HeaderSource): number | null {
  const v = h.get("content-length");
  if (v === null) return null;
  if (v.indexOf(",") < 0) return /^\d{1,15}$/.test(v) ? Number(v) : NaN;
  const parts = v.split(",").map((p) => p.trim());
  return parts.every((p) => p === parts[0]) && /^\d{1,15}$/.test(parts[0]!) ? Number(parts[0]) : NaN;
}

/**
 * Header names a Connection header lists (RFC 9110 §7.6.1: hop-by-hop, a proxy removes them), or
 * undefined when it lists none beyond close / keep-alive / upgrade (the common case costs no Set).
 */
export function connectionOptions(connection: string | null): Set<string> | undefined {
  if (connection === null) return undefined;
  let out: Set<string> | undefined;
  for (const t of connection.split(",")) {
    const name = t.trim().toLowerCase();
    if (name && name !== "close" && name !== "keep-alive" && name !== "upgrade") (out ??= new Set()).add(name);
  }
  return out;
}
