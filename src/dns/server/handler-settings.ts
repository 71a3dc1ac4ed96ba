/**
 * The handler's settings from `dns:` config as plain data (they cross to the I/O thread by
 * postMessage), and the live parts built from them — in one place for both threads.
 */
import { hostname } from "node:os";
import type { DnsOptions } from "../config.ts";
import { Cidr } from "../wire/ip.ts";
import type { HandlerOptions } from "./handler.ts";
import { QueryLog } from "./query-log.ts";
import { RateLimiter, type RrlOptions } from "./rrl.ts";

export interface HandlerSettings {
  acl: { query: string[]; forward: string[]; axfr: string[] };
  rrl?: RrlOptions;
  maxUdpPayload: number;
  wireCacheSize: number;
  nsid?: Uint8Array;
  /** `path` already resolved against the config folder; "" = stderr. */
  queryLog?: { path: string; sample: number };
}

export function handlerSettings(o: DnsOptions, resolvePath: (p: string) => string): HandlerSettings {
  return {
    acl: { query: o.allow_query, forward: o.forward.allow, axfr: o.axfr.allow },
    rrl: o.rrl.enabled ? { responsesPerSecond: o.rrl.responses_per_second, window: o.rrl.window, slip: o.rrl.slip } : undefined,
    maxUdpPayload: o.max_udp_payload,
    wireCacheSize: o.answer_cache_size,
    nsid: o.nsid ? Buffer.from(o.nsid === "hostname" ? hostname() : o.nsid) : undefined,
    queryLog: o.query_log.enabled ? { path: o.query_log.path ? resolvePath(o.query_log.path) : "", sample: o.query_log.sample } : undefined,
  };
}

type HandlerParts = Pick<HandlerOptions, "acl" | "rrl" | "maxUdpPayload" | "wireCacheSize" | "nsid" | "queryLog">;

/** Networks parsed, rate limiter and query log opened (the caller closes the log). */
export function handlerParts(s: HandlerSettings): HandlerParts {
  const cidrs = (l: string[]) => l.map((c) => Cidr.parse(c)!).filter(Boolean);
  return {
    acl: { query: cidrs(s.acl.query), forward: cidrs(s.acl.forward), axfr: cidrs(s.acl.axfr) },
    rrl: s.rrl ? new RateLimiter(s.rrl) : undefined,
    maxUdpPayload: s.maxUdpPayload,
    wireCacheSize: s.wireCacheSize,
    nsid: s.nsid ? Buffer.from(s.nsid) : undefined,
    queryLog: s.queryLog ? new QueryLog(s.queryLog.path, s.queryLog.sample) : undefined,
  };
}
