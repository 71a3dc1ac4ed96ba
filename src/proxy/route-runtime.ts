/**
 * What a route needs at request time, compiled once at start (or reload): its upstream, header
 * edits, auth, IP sets, rate limiter, body limit, hooks and error pages.
 */
import type { ConsolaInstance } from "consola";
import { readFileSync } from "node:fs";
import { SecurelyError } from "../core/errors.ts";
import { plain } from "./request-helpers.ts";
import { BasicAuth } from "./filters/basic-auth.ts";
import { compileHeaderOps, type CompiledHeaderOps } from "./filters/headers.ts";
import { CidrSet } from "./filters/ip-filter.ts";
import { TokenBucketLimiter } from "./filters/rate-limit.ts";
import { SharedRateLimiter, type CountingLimiter } from "./filters/shared-rate-limit.ts";
import { loadHooks, type ProxyHooks } from "./phases/hooks.ts";
import type { ProxyConfig, RouteConfig } from "./types.ts";
import { Peer } from "./upstream/peer.ts";
import type { Upstream } from "./upstream/upstream.ts";

export interface RouteRuntime {
  upstream?: Upstream;
  reqOps: CompiledHeaderOps;
  resOps: CompiledHeaderOps;
  auth?: BasicAuth;
  allow?: CidrSet;
  deny?: CidrSet;
  /** `rate_limit.scope: process` (the default): a token bucket in this process. */
  limiter?: TokenBucketLimiter;
  /** `rate_limit.scope: shared`: counted in a cache store. */
  sharedLimiter?: SharedRateLimiter;
  maxBody: number;
  hooks?: ProxyHooks;
  errorPages: Map<number, string>;
  rewrite?: { re: RegExp; replace: string };
}

/** The route's error page for this status (error_pages), else a plain-text answer. */
export function errorPage(rt: RouteRuntime, status: number, fallback: string): Response {
  const page = rt.errorPages.get(status);
  if (page !== undefined) return new Response(page, { status, headers: { "content-type": "text/html; charset=utf-8" } });
  return plain(status, fallback);
}

const adHoc = new Map<string, Peer>();
/** A peer named by an upstreamPeer hook that is not in the upstream's list (same options). */
export function adHocPeer(addr: string, up: Upstream | undefined): Peer {
  let p = adHoc.get(addr);
  if (!p) {
    const base = up?.peers[0];
    p = new Peer(up?.name ?? "hook", addr, { weight: 1, backup: false }, base?.tls, base?.options ?? { connectionTimeoutMs: 5000, totalConnectionTimeoutMs: 10000, readTimeoutMs: 60000, writeTimeoutMs: 60000, idleTimeoutMs: 60000 });
    adHoc.set(addr, p);
  }
  return p;
}

/** What compiling a route needs besides its config. */
export interface RuntimeOptions {
  /** The route's name (for shared rate-limit keys). */
  name: string;
  /** The cache RateLimiter for a store (`rate_limit.scope: shared`); wired by the service. */
  limiterFor?: (store: string | undefined, where: string) => CountingLimiter;
  log?: ConsolaInstance;
}

export async function runtimeFor(r: RouteConfig, cfg: ProxyConfig, upstreams: Map<string, Upstream>, resolvePath: (p: string) => string, opts: RuntimeOptions): Promise<RouteRuntime> {
  const errorPages = new Map<number, string>();
  for (const [status, file] of Object.entries(r.error_pages)) {
    try {
      errorPages.set(Number(status), readFileSync(resolvePath(file), "utf8"));
    } catch (e) {
      throw new SecurelyError(`proxy route ${opts.name}: error_pages.${status}: cannot read ${resolvePath(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { hint: "check the path (relative to the config file's folder)" });
    }
  }
  return {
    upstream: r.upstream ? upstreams.get(r.upstream) : undefined,
    reqOps: compileHeaderOps(r.request_headers),
    resOps: compileHeaderOps(r.response_headers),
    auth: Object.keys(r.basic_auth.users).length ? new BasicAuth(r.basic_auth.users, r.basic_auth.realm) : undefined,
    allow: r.allow.length ? new CidrSet(r.allow) : undefined,
    deny: r.deny.length ? new CidrSet(r.deny) : undefined,
    ...limiters(r, opts),
    maxBody: r.max_body_size ?? cfg.max_body_size,
    hooks: r.hooks ? await loadHooks(resolvePath(r.hooks)) : undefined,
    errorPages,
    rewrite: r.rewrite.regex ? { re: new RegExp(r.rewrite.regex), replace: r.rewrite.replace } : undefined,
  };
}

function limiters(r: RouteConfig, opts: RuntimeOptions): Pick<RouteRuntime, "limiter" | "sharedLimiter"> {
  const rl = r.rate_limit;
  if (rl.rate <= 0) return {};
  // the default: a store write per request would cost more than proxying the request itself
  if (rl.scope !== "shared") return { limiter: new TokenBucketLimiter(rl.rate, rl.per, rl.burst) };
  const where = `proxy route ${opts.name} rate_limit`;
  if (!opts.limiterFor) throw new SecurelyError(`${where}: scope shared needs the cache namespace, which is not wired here`, { code: "PROXY_RATE_LIMIT_STORE", hint: "run it under securely serve, or use scope: process" });
  return { sharedLimiter: new SharedRateLimiter(opts.limiterFor(rl.store, where), opts.name, rl.rate + rl.burst, rl.per, opts.log) };
}
