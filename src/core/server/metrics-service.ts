/** The metrics listener: Prometheus text at /metrics, per-service readiness at /health. */
import type { App } from "../app.ts";
import { metrics } from "../metrics/registry.ts";
import type { Service, ServiceStatus } from "./service.ts";

export function metricsService(app: App, peers: () => Service[]): Service {
  let server: ReturnType<typeof Bun.serve> | undefined;
  const listen = app.config.get<string>("metrics.listen");
  return {
    name: "metrics",
    kind: "listening",
    async start() {
      const unix = listen.startsWith("/") || listen.startsWith("unix:") ? listen.replace(/^unix:/, "") : undefined;
      const [host, port] = unix ? [] : splitHostPort(listen);
      const fetch = (req: Request) => {
        const path = new URL(req.url).pathname;
        if (path === "/metrics") return new Response(metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
        if (path === "/health") {
          const services: Record<string, ServiceStatus> = {};
          for (const s of peers()) services[s.name] = s.status?.() ?? { ready: true };
          const ready = Object.values(services).every((s) => s.ready);
          return Response.json({ status: ready ? "ok" : "degraded", services }, { status: ready ? 200 : 503 });
        }
        return new Response("not found\n", { status: 404 });
      };
      server = unix ? Bun.serve({ unix, fetch }) : Bun.serve({ hostname: host, port, reusePort: true, fetch });
      return { listening: [unix ? `unix ${unix}` : `http ${formatHostPort(server.hostname ?? host!, server.port!)}`] };
    },
    async stop({ graceful }) {
      await server?.stop(!graceful);
    },
    status: () => ({ ready: server !== undefined }),
  };
}

export function splitHostPort(addr: string): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`expected host:port, got "${addr}"`);
  return [m[1] ?? (m[2] || "0.0.0.0"), Number(m[3])];
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
