/**
 * The `dns:` config section. Every key has a default and a doc string (docs/dns.md lists them);
 * unknown keys are errors with a did-you-mean. Networks are CIDRs ("10.0.0.0/8", "::1", "any").
 */

import type { App } from "../core/app.ts";
import { list, map, obj, val } from "../core/config/schema.ts";
import { Cidr } from "./wire/ip.ts";
import { localAddresses } from "./zone/local-domains.ts";

const PRIVATE_NETS = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10"];

const cidrs = (doc: string, def: string[]) => list(val("string"), def, doc);

function badCidrs(path: string, values: string[]): Array<[string, string]> {
  return values.flatMap((v, i) => (Cidr.parse(v) ? [] : [[`${path}.${i}`, `"${v}" is not a network (use 10.0.0.0/8, ::1 or any)`] as [string, string]]));
}

export const dnsConfigSchema = obj(
  {
    enabled: val("boolean", false, "Run the DNS server in `securely serve` (`dns:serve` runs it regardless)."),
    listen: list(val("host_port"), ["127.0.0.1:5300"], "Addresses to serve on, UDP and TCP on each (port 0 = any free port, the same for both). 5300 because 5353 is mDNS."),
    udp: val("boolean", true, "Serve over UDP."),
    tcp: val("boolean", true, "Serve over TCP."),
    io: val("in:auto,native,eventloop", "auto", "Socket I/O: native (a dedicated thread doing epoll, recvmmsg/sendmmsg through bun:ffi; Linux), eventloop (Bun's sockets on the main thread), or auto (native where available)."),
    batch_window_us: val("integer|min:0|max:10000", 200, "Native I/O under load: while queries arrive closer together than this (µs), wait this long between rounds so one wake-up serves several queries (less CPU per query, up to this much added latency; a client sending one query at a time is never held, and clients that wait for their answers in lockstep are detected and not held either). 0 = off."),
    udp_socket: val("in:dgram,bun", "dgram", "UDP socket API when `io` is eventloop: dgram (node:dgram, shares a port across `threads` processes) or bun (Bun.udpSocket, cannot share a port)."),
    max_udp_payload: val("integer|min:512|max:4096", 1232, "Largest UDP answer and the EDNS payload size advertised, bytes (1232 avoids IP fragmentation)."),
    max_tcp_message: val("integer|min:512|max:65535", 65535, "Largest query accepted over TCP, bytes; a longer length prefix closes the connection."),
    tcp_idle_timeout: val("duration", 10, "Close a TCP connection idle this long (seconds, or 500ms/10s/1m)."),
    tcp_max_connections: val("integer|min:1", 1024, "Open TCP connections per process; more are closed on accept."),
    tcp_nodelay: val("boolean", true, "Send each TCP answer at once (TCP_NODELAY, as nginx's `tcp_nodelay on`). false leaves Nagle's algorithm on, as Knot and Unbound do: under steady pipelined load an answer waits in the kernel for the client's next query and leaves inside the client's send (about a third less server CPU per TCP query, measured), but a client that sends several queries and then waits may get the later answers only when its delayed-ACK timer fires (40 ms or more on Linux, up to 200 ms). Forwarded answers are pushed at once either way."),
    nsid: val("string", "", 'Name-server identifier sent to clients that ask (RFC 5001, `dig +nsid`): text, "hostname" for this host\'s name, empty = off.'),
    answer_cache_size: val("integer|min:0", 10000, "Encoded authoritative answers kept per process (0 disables the wire cache)."),
    reload_interval: val("duration", 0.25, "How often the server checks the store for zone changes (seconds)."),
    zones: map(
      obj({
        file: val("string", undefined, "RFC 1035 master file for this zone, relative to the config file."),
        records: list(val("string"), [], 'Inline records in master-file syntax, relative to the zone ("www 300 A 192.0.2.1").'),
        ttl: val("integer|min:0", 3600, "TTL for records that give none (and no $TTL)."),
      }),
      { doc: "Authoritative zones from the config, keyed by zone name." },
    ),
    local_domains: map(val("string"), { doc: 'Local-dev TLDs: every name under the key resolves to the value ("test: 127.0.0.1"; a loopback IPv4 also answers AAAA ::1).' }),
    allow_query: cidrs("Client networks allowed to query at all (empty = everyone).", []),
    axfr: obj({ allow: cidrs("Client networks allowed to transfer zones (AXFR/IXFR over TCP). Empty = nobody.", []) }),
    forward: obj({
      upstreams: list(val("string"), [], 'Upstream resolvers for names outside local zones ("10.0.0.1", "[::1]:53", or "system" for /etc/resolv.conf). Empty = no forwarding.'),
      zones: map(list(val("string")), { doc: "Conditional forwarding: domain → its own upstreams (longest match wins)." }),
      timeout: val("duration", 2, "Per-upstream deadline before failing over to the next (seconds)."),
      max_inflight: val("integer|min:1", 1000, "Distinct questions waiting on upstreams at once; beyond this, SERVFAIL at once (each holds a socket)."),
      allow: cidrs("Client networks the server forwards for (recursion ACL); others get REFUSED outside local zones.", PRIVATE_NETS),
      cache: obj({
        size: val("integer|min:0", 10000, "Cached forwarded answers (0 disables the cache)."),
        max_ttl: val("integer|min:0", 86400, "Cap on how long a positive answer is cached, seconds."),
        min_ttl: val("integer|min:0", 0, "Floor on how long a positive answer is cached, seconds."),
        negative_max_ttl: val("integer|min:0", 3600, "Cap on how long NXDOMAIN/NODATA is cached, seconds (RFC 2308)."),
      }),
    }),
    rrl: obj({
      enabled: val("boolean", false, "Response-rate limiting per client network (/24, /56) over UDP."),
      responses_per_second: val("integer|min:1", 50, "Answers per second per client network."),
      window: val("integer|min:1", 2, "Burst allowance, in seconds' worth of answers."),
      slip: val("integer|min:0", 2, "Every Nth limited answer is sent truncated (TC=1) instead of dropped; 0 drops all."),
    }),
    query_log: obj({
      enabled: val("boolean", false, "Write one JSON line per query."),
      path: val("string", "", "File to append to; empty = stderr."),
      sample: val("integer|min:1", 1, "Log one query in N."),
    }),
  },
  {
    check(v) {
      const issues: Array<[string, string]> = [];
      issues.push(...badCidrs("allow_query", v.allow_query), ...badCidrs("axfr.allow", v.axfr.allow), ...badCidrs("forward.allow", v.forward.allow));
      for (const [tld, value] of Object.entries(v.local_domains as Record<string, string>)) {
        const r = localAddresses(String(value));
        if (typeof r === "string") issues.push([`local_domains.${tld}`, r]);
      }
      const upstreamOk = (u: string) => u === "system" || /^(\[[0-9a-fA-F:.]+\]|[^:\s]+)(:\d{1,5})?$/.test(u);
      (v.forward.upstreams as string[]).forEach((u, i) => upstreamOk(u) || issues.push([`forward.upstreams.${i}`, `"${u}" is not host or host:port`]));
      for (const [z, ups] of Object.entries(v.forward.zones as Record<string, string[]>)) {
        ups.forEach((u, i) => upstreamOk(u) || issues.push([`forward.zones.${z}.${i}`, `"${u}" is not host or host:port`]));
      }
      return issues;
    },
  },
);

export interface DnsOptions {
  enabled: boolean;
  listen: string[];
  udp: boolean;
  tcp: boolean;
  io: "auto" | "native" | "eventloop";
  batch_window_us: number;
  udp_socket: "dgram" | "bun";
  max_udp_payload: number;
  max_tcp_message: number;
  tcp_idle_timeout: number;
  tcp_max_connections: number;
  tcp_nodelay: boolean;
  answer_cache_size: number;
  nsid: string;
  reload_interval: number;
  zones: Record<string, { file?: string; records: string[]; ttl: number }>;
  local_domains: Record<string, string>;
  allow_query: string[];
  axfr: { allow: string[] };
  forward: {
    upstreams: string[];
    zones: Record<string, string[]>;
    timeout: number;
    max_inflight: number;
    allow: string[];
    cache: { size: number; max_ttl: number; min_ttl: number; negative_max_ttl: number };
  };
  rrl: { enabled: boolean; responses_per_second: number; window: number; slip: number };
  query_log: { enabled: boolean; path: string; sample: number };
}

export function dnsOptions(app: App): DnsOptions {
  return app.config.get<DnsOptions>("dns");
}


