/**
 * The `proxy:` section of the YAML. Every key has a default and a doc string; docs/proxy.md mirrors
 * them. Keys are spelled as Pingora (PeerOptions, ServerConf) and Caddy/nginx spell them.
 * Shorthands: a listener may be written "127.0.0.1:8080", a server "127.0.0.1:9000".
 */
import { list, map, obj, val, type Schema } from "../core/config/schema.ts";
import { defineRule } from "../core/validation/rules.ts";
import { parseCidr } from "./filters/ip-filter.ts";
import { POLICY_NAMES } from "./selection/index.ts";

/** Byte sizes: 1024, "64k", "1m", "2g" (binary multiples) → bytes. */
export function parseBytes(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v !== "string") return undefined;
  const m = /^\s*(\d+)\s*([kmg]i?b?|b)?\s*$/i.exec(v);
  if (!m) return undefined;
  const unit = (m[2] ?? "b")[0]!.toLowerCase();
  return Number(m[1]) * ({ b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[unit]!;
}
defineRule("proxy_bytes", (v, _p, ctx) => {
  const n = parseBytes(v);
  if (n === undefined) return { ok: false, expected: 'a size such as 1024, "64k", "1m"' };
  ctx.type = "number";
  return { ok: true, value: n };
});

const headerOps = obj(
  {
    set: map(val("string"), { doc: "Headers to set, replacing any existing value." }),
    add: map(val("string"), { doc: "Headers to append (kept alongside existing values)." }),
    remove: list(val("string"), [], "Header names to delete."),
  },
  { doc: "Header edits, applied in the order remove, set, add." },
);

const cidrList = (doc: string) => list(val("string"), [], doc);

const tlsCert = obj({
  cert: val("string", undefined, "PEM certificate (chain) file, relative to the config file."),
  key: val("string", undefined, "PEM private key file for `cert`."),
  server_name: val("string", undefined, "SNI name this certificate answers (default: used for every name not matched)."),
});

export const listenerSchema = obj(
  {
    addr: val("required|listen", undefined, "host:port ([::1]:port for IPv6; port 0 picks a free port) or unix:/path."),
    http2: val("boolean", false, "Serve HTTP/2 through node:http2: over TLS ALPN h2 with HTTP/1.1 fallback, without TLS h2c (prior knowledge only). Slower than the default Bun.serve listener for HTTP/1.1."),
    raw: val("boolean", true, "Plain-TCP HTTP/1.1 listeners only: parse requests in securely's own front (Bun.listen) instead of Bun.serve, about 5 µs less CPU per request. HTTP Upgrades (WebSocket or any protocol) become byte tunnels. Requests it does not serve itself (chunked uploads, Expect, CONNECT, routes with hooks, basic auth, a shared rate limiter or compression) are passed to an internal Bun.serve. false: Bun.serve only. Ignored with TLS, http2 or a Unix socket."),
    tls: obj(
      {
        enabled: val("boolean", false, "Terminate TLS on this listener."),
        certs: list(tlsCert, [], "Certificates chosen by SNI; the first one is the default."),
        auto: val("boolean", false, "Issue certificates for `hosts` from securely's local CA (tls:ca) at start."),
        hosts: list(val("string"), [], "Host names to issue certificates for when `auto` is on."),
        client_ca: val("string", undefined, "PEM CA bundle; when set, clients must present a certificate it signed (downstream mTLS)."),
      },
      { doc: "TLS termination for this listener." },
    ),
  },
  { shorthand: (v) => ({ addr: v }), doc: "A listening socket." },
);

export const serverSchema = obj(
  {
    addr: val("required|string", undefined, "host:port of the upstream server, or unix:/path."),
    weight: val("integer|min:1|max:1000", 1, "Relative share of traffic for weighted policies."),
    backup: val("boolean", false, "Only used when every non-backup server is down."),
  },
  { shorthand: (v) => ({ addr: v }), doc: "One upstream server." },
);

export const upstreamSchema = obj(
  {
    servers: list(serverSchema, [], "The servers of this upstream."),
    balance: val(`in:${POLICY_NAMES.join(",")}`, "round_robin", "Selection policy (one file each in src/proxy/selection)."),
    hash_key: val("string", "client_ip", "Key for consistent_hash: client_ip, uri, header:NAME, cookie:NAME or query:NAME."),
    cookie: obj(
      {
        name: val("string", "securely_lb", "Cookie naming the chosen server for `balance: cookie`."),
        max_age: val("duration", 0, "Cookie lifetime (0 = session cookie)."),
      },
      { doc: "Sticky-session cookie settings." },
    ),
    tls: obj(
      {
        enabled: val("boolean", false, "Connect to the servers over TLS."),
        sni: val("string", undefined, "SNI to send (default: the server's host)."),
        verify_cert: val("boolean", true, "Verify the server certificate against ca_file (or the system roots)."),
        verify_hostname: val("boolean", true, "Check that the certificate names the SNI (or alternative_cn)."),
        alternative_cn: val("string", undefined, "Another name the certificate may carry instead of the SNI."),
        ca_file: val("string", undefined, "PEM CA bundle to verify the servers (default: server-level ca_file, then system roots)."),
        cert: val("string", undefined, "Client certificate presented to the servers (upstream mTLS)."),
        key: val("string", undefined, "Private key for `cert`."),
      },
      { doc: "Upstream TLS (Pingora's HttpPeer TLS options)." },
    ),
    connection_timeout: val("duration", 5, "Per-attempt TCP connect timeout (Pingora connection_timeout)."),
    total_connection_timeout: val("duration", 10, "Connect timeout including the TLS handshake."),
    read_timeout: val("duration", 60, "Longest wait for response bytes from the upstream; past it the client gets 504 (before headers) or a cut body."),
    write_timeout: val("duration", 60, "Longest wait for the upstream to accept request bytes."),
    idle_timeout: val("duration", 60, "How long an idle pooled connection is kept (0 = no pooling)."),
    max_retries: val("integer|min:0", undefined, "Retries of retryable failures per request (default: the server-level max_retries, 16)."),
    retry_backoff: val("duration", 0, "Pause before each retry, doubled per attempt (0 = none)."),
    retry_buffer_size: val("proxy_bytes", 65536, "Request bodies up to this size are kept for replay on retry; larger bodies are not replayed (502)."),
    health: obj(
      {
        active: obj(
          {
            enabled: val("boolean", false, "Run periodic checks (service proxy.health)."),
            type: val("in:http,tcp", "http", "tcp: connect only; http: send a request and check the answer."),
            path: val("string", "/", "Request path for http checks."),
            host: val("string", undefined, "Host header for http checks (default: the server address)."),
            expect_status: list(val("integer|between:100,599"), [200], "Statuses that count as healthy."),
            expect_body: val("string", undefined, "Text the body must contain to count as healthy."),
            interval: val("duration", 5, "Time between checks of one server."),
            timeout: val("duration", 1, "A check slower than this fails."),
            rise: val("integer|min:1", 1, "Consecutive successes to mark a down server up."),
            fall: val("integer|min:1", 1, "Consecutive failures to mark an up server down."),
          },
          { doc: "Active health checks." },
        ),
        passive: obj(
          {
            max_fails: val("integer|min:0", 1, "Failures within fail_duration that mark a server down (0 = off)."),
            fail_duration: val("duration", 10, "Window for counting failures, and how long a server stays down."),
            unhealthy_status: list(val("integer|between:100,599"), [], "Upstream statuses that count as failures (e.g. 502, 503)."),
          },
          { doc: "Passive health: failures of live requests." },
        ),
      },
      { doc: "Health checking." },
    ),
  },
  {
    doc: "A named group of servers.",
    check: (u) => {
      const out: Array<[string, string]> = [];
      if (u.servers.length === 0) out.push(["servers", "needs at least one server"]);
      const k = String(u.hash_key);
      if (!/^(client_ip|uri|(header|cookie|query):.+)$/.test(k)) out.push(["hash_key", "expected client_ip, uri, header:NAME, cookie:NAME or query:NAME"]);
      if (Boolean(u.tls.cert) !== Boolean(u.tls.key)) out.push(["tls", "cert and key go together"]);
      return out;
    },
  },
);

export const routeSchema = obj(
  {
    name: val("string", undefined, "Name used in logs and metrics (default: route-N)."),
    match: obj(
      {
        host: list(val("string"), [], "Host names: exact (api.example.com) or wildcard (*.example.com). Empty = any."),
        path: val("string", undefined, "Path prefix (/api matches /api and /api/x, not /apix)."),
        path_regex: val("string", undefined, "Regular expression the path must match."),
        methods: list(val("string"), [], "HTTP methods (GET, POST…). Empty = any."),
        headers: map(val("string"), { doc: "Header NAME: value (exact) or /regex/; `*` = present." }),
        query: map(val("string"), { doc: "Query parameter NAME: value (exact) or /regex/; `*` = present." }),
        client_ip: cidrList("Client addresses or CIDR ranges (after trusted_proxies)."),
      },
      { doc: "All given conditions must hold." },
    ),
    upstream: val("string", undefined, "Upstream to proxy to."),
    strip_prefix: val("string", undefined, "Remove this prefix from the path before proxying."),
    rewrite: obj(
      {
        regex: val("string", undefined, "Regular expression applied to the path."),
        replace: val("string", "", "Replacement ($1… for groups)."),
      },
      { doc: "Path rewrite." },
    ),
    request_headers: headerOps,
    response_headers: headerOps,
    redirect: obj(
      {
        to: val("string", undefined, "Target URL; {path} and {query} are replaced ({query} includes '?')."),
        status: val("in:301,302,303,307,308", 302, "Redirect status."),
      },
      { doc: "Answer with a redirect instead of proxying." },
    ),
    respond: obj(
      {
        status: val("integer|between:100,599", undefined, "Answer with this status instead of proxying."),
        body: val("string", "", "Response body."),
        content_type: val("string", "text/plain; charset=utf-8", "Content-Type of the body."),
      },
      { doc: "Static response (health endpoints, maintenance pages)." },
    ),
    basic_auth: obj(
      {
        realm: val("string", "securely", "Realm shown by browsers."),
        users: map(val("string"), { doc: "USER: password, or a hash Bun.password.verify accepts (argon2/bcrypt)." }),
      },
      { doc: "HTTP Basic authentication (401 when missing or wrong). Off when users is empty." },
    ),
    allow: cidrList("Only these client addresses/CIDRs may use the route (403 otherwise). Empty = all."),
    deny: cidrList("These client addresses/CIDRs get 403 (checked before allow)."),
    max_body_size: val("proxy_bytes", undefined, "Largest request body (413 above it). Default: proxy.max_body_size."),
    rate_limit: obj(
      {
        rate: val("integer|min:0", 0, "Requests allowed per `per` (0 = no limit)."),
        per: val("duration", 1, "Window the rate refers to."),
        burst: val("integer|min:0", 0, "Extra requests allowed at once beyond the steady rate."),
        key: val("string", "client_ip", "What is limited: client_ip, header:NAME, or any (one bucket for all)."),
        scope: val(
          "in:process,shared",
          "process",
          "process: a token bucket in each worker process (no I/O; with threads: N up to N times the limit). shared: a fixed window of `per` seconds counted in a cache store, holding across workers and instances.",
        ),
        store: val("string", undefined, "Cache store counting a shared limit: sqlite or redis (memory and null share nothing). Default: cache.store."),
      },
      { doc: "Over the limit: 429 with RateLimit headers and Retry-After." },
    ),
    compress: list(val("in:gzip,br,zstd,deflate"), [], "Response encodings offered, in preference order (empty = off)."),
    compress_min_size: val("proxy_bytes", 256, "Responses with a known size below this are not compressed."),
    hooks: val("string", undefined, "TypeScript/JavaScript file exporting Pingora phase functions (requestFilter, upstreamPeer…)."),
    error_pages: map(val("string"), { doc: "STATUS: file whose contents replace proxy-generated error bodies." }),
  },
  {
    doc: "A route: conditions and actions.",
    check: (r) => {
      const out: Array<[string, string]> = [];
      const actions = [r.upstream, r.redirect.to, r.respond.status].filter((x) => x !== undefined);
      if (actions.length === 0 && r.hooks === undefined) out.push(["", "needs one of upstream, redirect.to, respond.status or a hooks file"]);
      if (actions.length > 1) out.push(["", "has more than one of upstream, redirect.to and respond.status; keep one"]);
      for (const re of [r.match.path_regex, r.rewrite.regex]) {
        if (re === undefined) continue;
        try {
          new RegExp(re);
        } catch (e) {
          out.push(["", `invalid regular expression ${JSON.stringify(re)}: ${(e as Error).message}`]);
        }
      }
      for (const key of ["client_ip", "allow", "deny"]) {
        const arr = key === "client_ip" ? r.match.client_ip : r[key];
        for (const c of arr as string[]) if (!parseCidr(c)) out.push([key === "client_ip" ? "match.client_ip" : key, `"${c}" is not an IP address or CIDR range`]);
      }
      const rk = String(r.rate_limit.key);
      if (!/^(client_ip|any|header:.+)$/.test(rk)) out.push(["rate_limit.key", "expected client_ip, any or header:NAME"]);
      const rl = r.rate_limit;
      if (rl.scope === "shared") {
        // the cache counts whole-second windows
        if (!Number.isInteger(rl.per) || rl.per < 1) out.push(["rate_limit.per", `scope shared counts whole seconds; got ${rl.per} s (use 1s or more, whole)`]);
        if (rl.store === "memory" || rl.store === "null") out.push(["rate_limit.store", `"${rl.store}" is not shared between processes; use sqlite or redis`]);
      } else if (rl.store !== undefined) out.push(["rate_limit.store", "is only used with scope: shared; remove it or set scope: shared"]);
      return out;
    },
  },
);

export const proxySchema: Schema = obj(
  {
    enabled: val("boolean", false, "Run the proxy service (serve, proxy:serve)."),
    listen: list(listenerSchema, ["127.0.0.1:8080"], "Listeners (TCP host:port, [v6]:port, unix:/path), each optionally TLS."),
    upstreams: map(upstreamSchema, { keyRules: "regex:/^[A-Za-z0-9_.-]+$/", doc: "Named upstream groups." }),
    routes: list(routeSchema, [], "Routes, tried in order; the first whose match holds wins."),
    trusted_proxies: cidrList("Peers whose X-Forwarded-For/Proto/Host are believed (else they are replaced)."),
    max_header_size: val("proxy_bytes|max:1048576", 16384, "Largest request head (431 above it), at most 1m. Bun's parser caps it at 16 KiB; the raw front applies it to the head's bytes."),
    max_body_size: val("proxy_bytes", "100m", "Largest request body for every route (413 above it); 0 = no limit."),
    client_timeout: val("duration", 60, "Idle time allowed on a client connection (Bun caps it at 255 s)."),
    keepalive_request_limit: val("integer|min:0", 0, "Close a client connection after this many requests (0 = no limit)."),
    io: val(
      "in:auto,native,eventloop",
      "auto",
      "Socket I/O of the raw front's plain-TCP listeners and of plain (non-TLS) upstream connections. native: securely's own epoll loop through bun:ffi, nested in Bun's (Linux x86-64/arm64, main thread); eventloop: Bun's sockets; auto: native where it can run. TLS, HTTP/2, Unix listeners and host names (not IP literals) always use Bun's sockets. Changing it needs a restart.",
    ),
    io_uring: val(
      "in:auto,always,off",
      "auto",
      "With native I/O: run the reads and writes of an event batch through one io_uring_enter instead of one syscall each. auto: batches with 4 or more ready descriptors, where the kernel allows io_uring (else plain syscalls); always: every batch, and an error where io_uring or native I/O cannot run; off: plain syscalls. Process-wide; changing it needs a restart.",
    ),
    busy_poll_us: val(
      "integer|min:0|max:1000",
      0,
      "With native I/O: after an event batch that served sockets, poll for up to this many microseconds (giving the CPU to anything else runnable between polls) before sleeping in epoll_wait, so the next event is taken without a wake-up. Lowers latency at low concurrency for CPU time spent polling (loopback, one connection: p50 72 → 46 µs, +13 µs CPU per request). 0 = off. Process-wide; changing it needs a restart.",
    ),
    access_log: obj(
      {
        enabled: val("boolean", false, "Write one line per request."),
        path: val("string", "stdout", "File (relative to the config file), or stdout / stderr."),
        format: val("in:combined,json", "combined", "NCSA combined or JSON lines."),
      },
      { doc: "Access log." },
    ),
    server_header: val("string", "", "Server header added to responses (empty = none)."),
  },
  {
    doc: "Reverse proxy and load balancer.",
    check: (p) => {
      const out: Array<[string, string]> = [];
      (p.routes as any[]).forEach((r, i) => {
        if (r.upstream !== undefined && !(r.upstream in p.upstreams)) {
          out.push([`routes.${i}.upstream`, `unknown upstream '${r.upstream}'; defined: ${Object.keys(p.upstreams).join(", ") || "(none)"}`]);
        }
      });
      for (const c of p.trusted_proxies as string[]) if (!parseCidr(c)) out.push(["trusted_proxies", `"${c}" is not an IP address or CIDR range`]);
      return out;
    },
  },
);
