/**
 * Response compression (gzip, br, zstd, deflate) negotiated from Accept-Encoding, streaming: the
 * body is piped through a node:zlib transform, never buffered whole. Skipped for responses that
 * are already encoded, tiny, ranged, or of types that do not compress (images, video, archives).
 */
import { Readable } from "node:stream";
import * as zlib from "node:zlib";

const INCOMPRESSIBLE = /^(image\/(?!svg)|video\/|audio\/|application\/(zip|gzip|x-gzip|zstd|octet-stream|pdf|x-7z|x-rar|wasm))/i;

/** Pick the first configured encoding the client accepts (q>0). */
export function negotiate(accept: string | null, offered: string[]): string | undefined {
  if (!accept || offered.length === 0) return undefined;
  const accepted = new Map<string, number>();
  for (const part of accept.toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)).find(Boolean);
    accepted.set(name!.trim(), q ? Number(q[1]) : 1);
  }
  for (const enc of offered) {
    const q = accepted.get(enc) ?? accepted.get("*");
    if (q !== undefined && q > 0) return enc;
  }
  return undefined;
}

export function shouldCompress(status: number, h: Headers, minSize: number): boolean {
  if (status < 200 || status === 204 || status === 206 || status === 304) return false;
  if (h.has("content-encoding")) return false;
  const len = h.get("content-length");
  if (len !== null && Number(len) < minSize) return false;
  const type = h.get("content-type") ?? "";
  if (INCOMPRESSIBLE.test(type)) return false;
  if (/no-transform/i.test(h.get("cache-control") ?? "")) return false;
  return true;
}

function encoder(enc: string): zlib.Gzip | zlib.BrotliCompress | zlib.Deflate | NodeJS.ReadWriteStream {
  switch (enc) {
    case "gzip":
      return zlib.createGzip({ level: 5 });
    case "deflate":
      return zlib.createDeflate({ level: 5 });
    case "br":
      return zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
    case "zstd":
      return (zlib as any).createZstdCompress();
    default:
      throw new Error(`unknown encoding ${enc}`);
  }
}

/** The body re-encoded; the caller sets Content-Encoding and drops Content-Length. */
export function compressBody(body: Uint8Array | ReadableStream<Uint8Array>, enc: string): ReadableStream<Uint8Array> {
  const z = encoder(enc) as unknown as NodeJS.ReadWriteStream & Readable;
  if (body instanceof Uint8Array) z.end(body);
  else void pump(body.getReader(), z);
  // by hand rather than Readable.toWeb: a failure must error the web stream with `undefined`, the
  // one reason Bun does not print to stderr (the proxy logs the cause itself)
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const out = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        ctrl = c;
      },
      pull: () => {
        z.resume();
      },
      cancel: () => {
        (z as any).destroy();
      },
    },
    { highWaterMark: 64 * 1024, size: (c?: Uint8Array) => c?.byteLength ?? 0 },
  );
  z.on("data", (c: Buffer) => {
    ctrl.enqueue(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    if ((ctrl.desiredSize ?? 1) <= 0) z.pause();
  });
  z.on("end", () => ctrl.close());
  z.on("error", () => ctrl.error(undefined));
  return out;
}

/**
 * Feed the encoder with backpressure. A failed source must fail the output with a real Error (the
 * upstream body errors with `undefined`, and node would end a stream destroyed with undefined
 * cleanly: a fake complete body).
 */
async function pump(reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }, z: NodeJS.ReadWriteStream & Readable): Promise<void> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!z.write(value!)) await new Promise<void>((r) => z.once("drain", () => r()));
    }
    z.end();
  } catch {
    z.destroy(new Error("upstream body failed"));
  }
}

export function zstdAvailable(): boolean {
  return typeof (zlib as any).createZstdCompress === "function";
}
