/** The metrics listener: Prometheus text at /metrics, per-service readiness at /health. */
import type { App } from "../app.ts";
import { metrics } from "../metrics/registry.ts";
import { HttpDrain } from "./http-drain.ts";
import { sharedPort } from "./ports.ts";
import { runningServices } from "./running.ts";
import type { Service, ServiceStatus } from "./service.ts";

/** `peers` lists the services /health reports; default: whatever this process is running. */
export function metricsService(app: App, peers: () => Service[] = runningServices): Service {
  let server: ReturnType<typeof Bun.serve> | undefined;
  const drain = new HttpDrain();
  const listen = app.config.get<string>("metrics.listen");
  return {
    name: "metrics",
    kind: "listening",
    // always in the primary: it must see the supervisor's view of every worker group
    threads: 1,
    async start() {
      const unix = listen.startsWith("/") || listen.startsWith("unix:") ? listen.replace(/^unix:/, "") : undefined;
      const [host, port] = unix ? [] : splitHostPort(listen);
      const fetch = drain.wrap((req: Request) => {
        const path = new URL(req.url).pathname;
        if (path === "/metrics") return new Response(metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
        if (path === "/health") {
          const services: Record<string, ServiceStatus> = {};
          for (const s of peers()) services[s.name] = safeStatus(s);
          const ready = Object.values(services).every((s) => s.ready);
          return Response.json({ status: ready ? "ok" : "degraded", services }, { status: ready ? 200 : 503 });
        }
        return new Response("not found\n", { status: 404 });
      });
      server = unix ? Bun.serve({ unix, fetch }) : Bun.serve({ hostname: host, port: sharedPort("metrics", port!), reusePort: true, fetch });
      return { listening: [unix ? `unix ${unix}` : `http ${formatHostPort(server.hostname ?? host!, server.port!)}`] };
    },
    async stop(opts) {
      await drain.stop(server, opts);
      server = undefined;
    },
    status: () => ({ ready: server !== undefined }),
  };
}

function safeStatus(s: Service): ServiceStatus {
  try {
    return s.status?.() ?? { ready: true };
  } catch (err) {
    return { ready: false, error: (err as Error).message };
  }
}

export function splitHostPort(addr: string): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`expected host:port, got "${addr}"`);
  return [m[1] ?? (m[2] || "0.0.0.0"), Number(m[3])];
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
