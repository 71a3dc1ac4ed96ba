/**
 * Pingora's ServerConf keys, spelled and defaulted as Pingora does (pingora-core server/configuration),
 * except the two paths, which say "securely" instead of "pingora" so both can run on one host.
 * Optional Pingora keys default to the value Pingora falls back to when they are None.
 */
import { list, obj, val } from "./schema.ts";

export const serverKeys = {
  version: val("integer|min:0", 0, "Config format version (Pingora's `version`)."),
  daemon: val("boolean", false, "Detach into the background after start (also `-d`)."),
  error_log: val("string", undefined, "Write logs to this file instead of stderr (used when daemonized)."),
  pid_file: val("string", "/tmp/securely.pid", "PID file of the running instance (read by `status`, `stop`, hooks)."),
  upgrade_sock: val("string", "/tmp/securely_upgrade.sock", "Unix socket the old and new instance coordinate over during a graceful upgrade."),
  user: val("string", undefined, "Drop to this user after listeners are bound."),
  group: val("string", undefined, "Drop to this group after listeners are bound."),
  working_directory: val("string", undefined, "Working directory of the daemon."),
  threads: val("integer|min:1|max:1024", 1, "Worker processes per listening service, sharing its ports with SO_REUSEPORT."),
  listener_tasks_per_fd: val("integer|min:1", 1, "Accepted for Pingora compatibility; Bun accepts on one loop per process."),
  work_stealing: val("boolean", true, "Accepted for Pingora compatibility; each worker process is its own event loop."),
  ca_file: val("string", undefined, "Root CA bundle (PEM) for verifying upstream TLS certificates."),
  grace_period_seconds: val("integer|min:0", 300, "After SIGTERM/SIGQUIT: how long in-flight requests and jobs may finish."),
  graceful_shutdown_timeout_seconds: val("integer|min:0", 5, "Timeout of the final shutdown step after the grace period."),
  client_bind_to_ipv4: list(val("ip"), [], "Source IPv4 addresses for upstream connections."),
  client_bind_to_ipv6: list(val("ip"), [], "Source IPv6 addresses for upstream connections."),
  upstream_keepalive_pool_size: val("integer|min:0", 128, "Idle upstream connections kept in the proxy's pool, in total."),
  max_retries: val("integer|min:0", 16, "Cap on retries of retryable upstream errors per request."),
  upgrade_sock_connect_accept_max_retries: val("integer|min:0", 5, "Retries (1 s apart) connecting to the old instance over upgrade_sock."),
  max_blocking_threads: val("integer|min:1", 512, "Accepted for Pingora compatibility (no blocking pool in Bun)."),
  blocking_threads_ttl_seconds: val("integer|min:0", 10, "Accepted for Pingora compatibility."),
  daemon_wait_for_ready: val("boolean", false, "With `-d`: the launching process exits only once every service is ready."),
  daemon_ready_timeout_seconds: val("integer|min:1", 600, "How long the launching process waits for readiness before failing."),
  daemon_notify_timeout_seconds: val("integer|min:1", 60, "How long the daemon retries its readiness notification."),
};

/** Core sections: the store, the metrics listener and the encrypter's cipher. */
export const coreSections = {
  store: obj({
    path: val("string", ".securely/securely.db", "SQLite store file, relative to the config file's folder."),
    busy_timeout_ms: val("integer|min:0", 10000, "How long a writer waits for the write lock before failing."),
  }),
  metrics: obj({
    enabled: val("boolean", true, "Serve Prometheus metrics and /health."),
    listen: val("listen", "127.0.0.1:9464", "Address of the metrics and health listener."),
  }),
  crypto: obj({
    cipher: val("in:AES-128-CBC,AES-256-CBC,AES-128-GCM,AES-256-GCM", "AES-256-CBC", "Laravel's app.cipher (also SECURELY_CIPHER)."),
    key_file: val("string", undefined, "App key file; default: securely.key beside the store."),
  }),
};
