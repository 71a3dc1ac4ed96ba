/**
 * Graceful stop for HTTP listeners: services built on `Bun.serve` (proxy, metrics, test fixtures)
 * and any listener of a service's own that implements DrainTarget (the proxy's raw front).
 *
 * Bun's `server.stop(false)` closes the listener and lets in-flight requests finish, but it also
 * closes idle keep-alive connections at once: a client that writes its next request on such a
 * connection at that moment sees a reset. So a graceful stop first lingers — still serving, but
 * answering every request with `Connection: close` so busy keep-alive clients move to a fresh
 * connection (the new instance's, during an upgrade) — then closes the listener, waits for
 * in-flight requests up to the deadline, and finally closes whatever is left.
 */
import type { Server } from "bun";
import type { StopOptions } from "./service.ts";

/** How long a graceful stop keeps serving with `Connection: close` before closing the listener. */
export const DRAIN_LINGER_MS = 1000;

export class HttpDrain {
  private draining = false;

  /** Wrap a fetch handler so responses carry `Connection: close` while draining. */
  wrap<F extends (req: Request, server: Server<any>) => Response | Promise<Response> | undefined | Promise<Response | undefined>>(fetch: F): F {
    return (async (req: Request, server: Server<any>) => {
      const res = await fetch(req, server);
      if (!this.draining || !res) return res;
      try {
        res.headers.set("connection", "close");
        return res;
      } catch {
        // immutable headers (a Response from fetch()): copy it
        const copy = new Response(res.body, res);
        copy.headers.set("connection", "close");
        return copy;
      }
    }) as F;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Stop `server` as `opts` asks; resolves once every connection is closed. */
  async stop(server: Server<any> | undefined, opts: StopOptions, lingerMs = DRAIN_LINGER_MS): Promise<void> {
    if (!server) return;
    await this.stopTarget({ close: () => server.stop(false), cut: () => server.stop(true) }, opts, lingerMs);
  }

  /**
   * The graceful-stop sequence over any listener (a Bun.serve server, or a front of a service's
   * own): hard stop → cut at once; graceful → linger while isDraining, close, wait for the
   * in-flight requests up to the deadline, then cut what is left.
   */
  async stopTarget(target: DrainTarget, opts: StopOptions, lingerMs = DRAIN_LINGER_MS): Promise<void> {
    if (!opts.graceful) {
      await target.cut();
      return;
    }
    this.draining = true;
    const deadline = Date.now() + opts.timeoutMs;
    const linger = Math.min(lingerMs, opts.timeoutMs);
    if (linger > 0) await Bun.sleep(linger);
    const closed = target.close();
    const left = deadline - Date.now();
    const timedOut = await Promise.race([closed.then(() => false), Bun.sleep(Math.max(0, left)).then(() => true)]);
    if (timedOut) await target.cut();
  }
}

/** What HttpDrain.stopTarget drives. */
export interface DrainTarget {
  /** Stop accepting and close idle connections; busy ones close after their response. Resolves once none is left. */
  close(): Promise<void>;
  /** Close every connection now. */
  cut(): void | Promise<void>;
}
