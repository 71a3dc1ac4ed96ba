/** Contracts of the proxy: the resolved config (as validated by config.ts) and the runtime shapes. */

export interface HeaderOps {
  set: Record<string, string>;
  add: Record<string, string>;
  remove: string[];
}

export interface ListenerConfig {
  addr: string;
  http2: boolean;
  /** Serve plain-TCP HTTP/1.1 through the raw front (listen/raw-front.ts). */
  raw: boolean;
  tls: { enabled: boolean; certs: { cert?: string; key?: string; server_name?: string }[]; auto: boolean; hosts: string[]; client_ca?: string };
}

export interface ServerConfig {
  addr: string;
  weight: number;
  backup: boolean;
}

export interface UpstreamTlsConfig {
  enabled: boolean;
  sni?: string;
  verify_cert: boolean;
  verify_hostname: boolean;
  alternative_cn?: string;
  ca_file?: string;
  cert?: string;
  key?: string;
}

export interface ActiveHealthConfig {
  enabled: boolean;
  type: "http" | "tcp";
  path: string;
  host?: string;
  expect_status: number[];
  expect_body?: string;
  interval: number;
  timeout: number;
  rise: number;
  fall: number;
}

export interface UpstreamConfig {
  servers: ServerConfig[];
  balance: string;
  hash_key: string;
  cookie: { name: string; max_age: number };
  tls: UpstreamTlsConfig;
  connection_timeout: number;
  total_connection_timeout: number;
  read_timeout: number;
  write_timeout: number;
  idle_timeout: number;
  max_retries?: number;
  retry_backoff: number;
  retry_buffer_size: number;
  health: {
    active: ActiveHealthConfig;
    passive: { max_fails: number; fail_duration: number; unhealthy_status: number[] };
  };
}

export interface RouteConfig {
  name?: string;
  match: {
    host: string[];
    path?: string;
    path_regex?: string;
    methods: string[];
    headers: Record<string, string>;
    query: Record<string, string>;
    client_ip: string[];
  };
  upstream?: string;
  strip_prefix?: string;
  rewrite: { regex?: string; replace: string };
  request_headers: HeaderOps;
  response_headers: HeaderOps;
  redirect: { to?: string; status: number };
  respond: { status?: number; body: string; content_type: string };
  basic_auth: { realm: string; users: Record<string, string> };
  allow: string[];
  deny: string[];
  max_body_size?: number;
  rate_limit: { rate: number; per: number; burst: number; key: string; scope: "process" | "shared"; store?: string };
  compress: string[];
  compress_min_size: number;
  hooks?: string;
  error_pages: Record<string, string>;
}

export interface ProxyConfig {
  enabled: boolean;
  listen: ListenerConfig[];
  upstreams: Record<string, UpstreamConfig>;
  routes: RouteConfig[];
  trusted_proxies: string[];
  max_header_size: number;
  max_body_size: number;
  client_timeout: number;
  keepalive_request_limit: number;
  io: "auto" | "native" | "eventloop";
  io_uring: "auto" | "always" | "off";
  busy_poll_us: number;
  access_log: { enabled: boolean; path: string; format: "combined" | "json" };
  server_header: string;
}

/** Process-level (Pingora ServerConf) settings the proxy honours. */
export interface ServerSettings {
  max_retries: number;
  upstream_keepalive_pool_size: number;
  client_bind_to_ipv4: string[];
  client_bind_to_ipv6: string[];
  ca_file?: string;
}
