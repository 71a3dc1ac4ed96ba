/**
 * Pingora's retry rules. A failure to connect is always retryable (nothing reached the upstream).
 * Once request bytes were sent, only two cases are retried: the connection came from the pool and
 * died before any response byte (a stale keepalive connection — the upstream never saw the
 * request), or the method is idempotent (RFC 9110 §9.2.2), so sending it twice is harmless.
 * Whether the body can be sent again is checked separately (BodySource.replayable).
 */
import type { ProxyError } from "../errors.ts";

export const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

export function isRetryable(e: ProxyError | undefined, method: string): boolean {
  if (!e) return false;
  if (e.kind === "connect" || e.kind === "connect_timeout") return true;
  if (e.kind === "tls" || e.kind === "body_not_replayable") return false;
  if (e.retryable) return true;
  return e.sent && IDEMPOTENT.has(method);
}
