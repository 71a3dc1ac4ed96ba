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

/** Count body bytes of a chunked upload and fail the stream past `limit` (413). */
export function limitStream(s: ReadableStream<Uint8Array>, limit: number, onExceeded: () => void): ReadableStream<Uint8Array> {
  let n = 0;
  return s.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        n += chunk.byteLength;
        if (n > limit) {
          onExceeded();
          c.error(new Error(`request body over ${limit} bytes`));
        } else c.enqueue(chunk);
      },
    }),
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
