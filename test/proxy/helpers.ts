/**
 * Helpers for proxy tests: an origin server on an ephemeral port, the proxy service started
 * in-process from YAML (real sockets, real clients), and a raw-socket client for malformed input.
 */
import { afterAll, onTestFinished } from "bun:test";
import { App } from "../../src/core/app.ts";
import type { Service } from "../../src/core/server/service.ts";
import { modules } from "../../src/main.ts";
import { proxyServices } from "../../src/proxy/service.ts";
import { tempProject } from "../harness.ts";

/**
 * Stop what a helper started when its test ends (or, started outside a test, when its file ends),
 * pass or fail. (A module-level afterAll here would only cover the first file that imports it:
 * proxies of later files kept running, with their sockets, through the rest of the run.)
 */
function cleanup(stop: () => unknown): void {
  try {
    onTestFinished(async () => void (await stop()));
  } catch {
    afterAll(async () => void (await stop()));
  }
}

export interface Origin {
  port: number;
  addr: string;
  server: ReturnType<typeof Bun.serve>;
  stop(): void;
}

/** A Bun.serve origin on 127.0.0.1:0. */
export function origin(fetch: (req: Request, server: any) => Response | Promise<Response> | undefined | Promise<Response | undefined>, extra: Record<string, unknown> = {}): Origin {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch, ...extra } as any);
  const o = { port: server.port!, addr: `127.0.0.1:${server.port}`, server, stop: () => server.stop(true) };
  cleanup(o.stop);
  return o;
}

/** A raw TCP origin: `onData` gets each request chunk and the socket. */
export function rawOrigin(onData: (sock: any, data: string) => void, onOpen?: (sock: any) => void): { port: number; addr: string; connections: () => number; stop(): void } {
  let connections = 0;
  const l = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        connections++;
        onOpen?.(s);
      },
      data(s, d) {
        onData(s, new TextDecoder().decode(d));
      },
    },
  });
  const o = { port: l.port, addr: `127.0.0.1:${l.port}`, connections: () => connections, stop: () => l.stop(true) };
  cleanup(o.stop);
  return o;
}

export interface RunningProxy {
  port: number;
  base: string;
  app: App;
  services: Service[];
  listening: string[];
  stop(graceful?: boolean): Promise<void>;
}

/** Start the proxy service(s) in this process from a `proxy:` YAML section (indented by caller). */
/** proxy YAML with `settings` (indented lines under proxy:), one loopback listener and every route to the origin on `port`. */
export function toOrigin(port: number, settings = ""): string {
  return `${settings}  listen: ["127.0.0.1:0"]
  upstreams:
    app: { servers: ["127.0.0.1:${port}"] }
  routes:
    - upstream: app
`;
}

export async function startProxy(proxyYaml: string, top = ""): Promise<RunningProxy> {
  const p = tempProject(`${top}metrics:\n  listen: 127.0.0.1:0\nproxy:\n${proxyYaml}`);
  const app = new App({ modules, configPath: p.config, env: { ...process.env, SECURELY_CONF: p.config }, logLevel: process.env.PROXY_TEST_LOG ?? "silent" });
  const services = proxyServices(app, true);
  const listening: string[] = [];
  for (const s of services) {
    const r = await s.start();
    if (r) listening.push(...r.listening);
  }
  const addr = listening[0]!;
  const port = Number(addr.slice(addr.lastIndexOf(":") + 1));
  let stopped = false;
  const stop = async (graceful = false) => {
    if (stopped) return;
    stopped = true;
    for (const s of [...services].reverse()) await s.stop({ graceful, timeoutMs: 2000 });
  };
  cleanup(stop);
  return { port, base: `http://127.0.0.1:${port}`, app, services, listening, stop };
}

/** Send raw bytes, collect everything until the server closes (or `waitMs` of silence). */
export function raw(port: number, data: string | Uint8Array, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    let timer: Timer;
    const done = () => {
      clearTimeout(timer);
      resolve(out);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, waitMs);
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.write(data);
          arm();
        },
        data(_s, d) {
          out += new TextDecoder().decode(d);
          arm();
        },
        close: done,
        error: done,
      },
    });
  });
}

/** Indent a YAML block by n spaces. */
export function indent(text: string, n = 2): string {
  return text.replace(/^/gm, " ".repeat(n));
}
