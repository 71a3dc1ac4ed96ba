/**
 * The `queue:` config section. Names follow Laravel (`retry_after`, `--tries`, `--backoff`,
 * `--timeout`, `--sleep`) so a Laravel user finds the knobs where they expect them.
 */
import { map, obj, val } from "../core/config/schema.ts";

const handler = obj(
  {
    type: val("required|in:shell,http,module", undefined, "shell (command, payload on stdin), http (POST to url) or module (.ts/.js file exporting handle)"),
    command: val("string", undefined, "shell: the command line, run with `sh -c`"),
    url: val("url", undefined, "http: where the payload is POSTed"),
    path: val("string", undefined, "module: file exporting handle(payload, ctx) or a defineJob default; relative to the config's folder"),
    headers: map(val("string"), { doc: "http: extra request headers" }),
    tries: val("integer|min:1", undefined, "max attempts for this handler's jobs (overrides the worker's --tries)"),
    backoff: val("string", undefined, "seconds before retries, e.g. \"1,5,10\" (overrides --backoff)"),
    timeout: val("duration", undefined, "seconds one attempt may run (overrides --timeout)"),
  },
  {
    doc: "a named handler",
    shorthand: (v) => {
      const m = /^(shell|http|module):(.*)$/s.exec(String(v));
      if (!m) return v;
      const key = { shell: "command", http: "url", module: "path" }[m[1] as "shell" | "http" | "module"];
      return { type: m[1], [key]: m[2] };
    },
    check: (h) => {
      const need = { shell: "command", http: "url", module: "path" }[h.type as "shell" | "http" | "module"];
      return need && !h[need] ? [[need, `is required for a ${h.type} handler`]] : [];
    },
  },
);

export const queueConfig = obj({
  driver: val("in:sqlite,redis", "sqlite", "sqlite (the store file) or redis (workers on several machines)"),
  default_queue: val("string|min:1", "default", "queue used when a push names none"),
  retry_after: val("duration", 90, "lease length in seconds: a reserved job whose worker vanished is released this long after reservation (running jobs extend it)"),
  output_limit: val("integer|min:0", 65536, "bytes of handler output (shell stdout/stderr, http body) kept in the job record (queue:show; a day for successful jobs)"),
  redis: obj({
    url: val("string", "redis://127.0.0.1:6379", "redis driver: server URL"),
    prefix: val("string", "securely:queue:", "redis driver: key prefix"),
  }),
  handlers: map(handler, { keyRules: "regex:/^[A-Za-z0-9_.-]+$/", doc: "named handlers: NAME → {type, command|url|path} or the shorthand \"shell:CMD\" / \"http:URL\" / \"module:PATH\"" }),
  worker: obj({
    enabled: val("boolean", false, "run a worker inside `securely serve`"),
    queues: val("string", "default", "comma list, strict priority order (like --queue high,default)"),
    concurrency: val("integer|min:1|max:1024", 1, "jobs run at the same time by one worker"),
    sleep: val("duration", 3, "longest idle wait in seconds between checks (new jobs wake the worker at once)"),
    tries: val("integer|min:1", 1, "default max attempts (Laravel --tries)"),
    backoff: val("string", "0", "default seconds before a retry, comma list per attempt (Laravel --backoff)"),
    timeout: val("duration", 60, "default seconds an attempt may run (Laravel --timeout); keep below retry_after"),
    memory: val("integer|min:0", 256, "queue:work exits when its RSS exceeds this many MB (0 = no limit); Laravel says 128, a Bun process starts near 50. Not applied by serve's worker (it shares the process)"),
    rest: val("duration", 0, "seconds to rest between jobs"),
  }),
});
