/**
 * Proxy errors carry Pingora's two facts: where the failure came from (upstream, downstream,
 * internal) and whether retrying on another peer is safe. Mapping to an HTTP status happens in one
 * place (`statusFor`).
 */
import { SecurelyError } from "../core/errors.ts";

export type ErrorSource = "upstream" | "downstream" | "internal";
export type ErrorKind =
  | "connect" // TCP/TLS connection could not be made
  | "connect_timeout"
  | "tls" // handshake or verification failed
  | "read_timeout" // upstream sent nothing for read_timeout
  | "write_timeout"
  | "closed" // upstream closed or reset the connection
  | "bad_response" // upstream response could not be parsed
  | "body_not_replayable" // retry needed but the request body exceeded the replay buffer
  | "client_closed" // the client left while the upstream was answering: not the upstream's fault
  | "no_peer"; // every server is down

export class ProxyError extends SecurelyError {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly source: ErrorSource,
    /** Safe to try again on another (or a fresh) connection. */
    public retryable: boolean,
    /** The error happened on a connection taken from the keepalive pool. */
    readonly reused = false,
    /** Request bytes reached the upstream before the failure. */
    readonly sent = false,
  ) {
    super(message, { code: `PROXY_${kind.toUpperCase()}` });
    this.name = "ProxyError";
  }
}

/** The status a client receives for a failure before response headers were sent. */
export function statusFor(err: unknown): number {
  if (!(err instanceof ProxyError)) return 502;
  if (err.kind === "read_timeout" || err.kind === "connect_timeout") return 504;
  if (err.kind === "no_peer") return 503;
  return 502;
}
