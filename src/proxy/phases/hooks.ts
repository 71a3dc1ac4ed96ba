/**
 * Pingora's ProxyHttp phases as a hooks file: a route's `hooks:` names a .ts/.js file exporting any
 * of these functions (camelCase of Pingora's names). Every phase is optional; absent ones cost
 * nothing. Loaded with core/sdk loadUserModule at start, so a broken file stops the service.
 */
import { loadUserModule } from "../../core/sdk/index.ts";
import { SecurelyError } from "../../core/errors.ts";
import { closest } from "../../core/config/schema.ts";

/** Per-request state every phase sees (Pingora's CTX plus the request facts). */
export interface HookContext {
  route: string;
  clientIp: string;
  /** Mutable request head: edits in requestFilter / upstreamRequestFilter reach the upstream. */
  method: string;
  path: string;
  query: string;
  headers: Headers;
  /** Free-form state shared by the phases of one request. */
  state: Record<string, unknown>;
  /** Upstream server address chosen (after upstreamPeer). */
  peer?: string;
  status?: number;
  error?: string;
}

export interface ProxyHooks {
  /** Return a Response to answer early (auth, rate limit…), or nothing to continue. */
  requestFilter?(ctx: HookContext, req: Request): Response | void | Promise<Response | void>;
  /** Return "host:port" (or an upstream server address) to override load balancing. */
  upstreamPeer?(ctx: HookContext): string | void | Promise<string | void>;
  /** Edit ctx.headers / ctx.path before the request goes upstream. */
  upstreamRequestFilter?(ctx: HookContext): void | Promise<void>;
  /** Edit the response headers before they reach the client. */
  responseFilter?(ctx: HookContext, headers: Headers): void | Promise<void>;
  /** A connection to an upstream failed; return false to stop retrying. */
  failToConnect?(ctx: HookContext, error: Error): boolean | void;
  /** Proxying failed after connecting; return a Response to answer instead of the default error. */
  errorWhileProxy?(ctx: HookContext, error: Error): Response | void | Promise<Response | void>;
  /** Called once the response head was sent (or the request failed), for custom logging. */
  logging?(ctx: HookContext): void;
}

/** Identity helper for typed hooks files: `export default defineProxyHooks({ requestFilter(ctx) {…} })`. */
export function defineProxyHooks(hooks: ProxyHooks): ProxyHooks {
  return hooks;
}

const PHASES = ["requestFilter", "upstreamPeer", "upstreamRequestFilter", "responseFilter", "failToConnect", "errorWhileProxy", "logging"] as const;

/** Load and check a hooks file: every exported phase must be a function; a near-miss phase name is an error. */
export async function loadHooks(path: string): Promise<ProxyHooks> {
  const mod = await loadUserModule<Record<string, unknown>>(path, "proxy hooks");
  const src = (mod.default && typeof mod.default === "object" ? mod.default : mod) as Record<string, unknown>;
  const hooks: ProxyHooks = {};
  for (const [name, fn] of Object.entries(src)) {
    if (name === "default") continue;
    if (!(PHASES as readonly string[]).includes(name)) {
      // helpers and constants may be exported too; a function named almost like a phase is a typo
      const near = typeof fn === "function" ? closest(name, [...PHASES]) : undefined;
      if (near) throw new SecurelyError(`proxy hooks: ${path} exports '${name}', which is not a phase — did you mean '${near}'?`, { hint: `phases: ${PHASES.join(", ")}` });
      continue;
    }
    if (typeof fn !== "function") throw new SecurelyError(`proxy hooks: ${path} export '${name}' is not a function`);
    (hooks as any)[name] = fn;
  }
  return hooks;
}
