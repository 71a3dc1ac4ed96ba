#!/usr/bin/env bun
/**
 * Zero-downtime upgrade under load, the long version of test/core/server/upgrade.test.ts, side by
 * side with nginx's binary upgrade (USR2 → new master inherits the sockets, QUIT → old drains).
 *
 *   npx bun bench/lifecycle/upgrade-under-load.ts [--seconds 20] [--upgrades 4] [--keepalive 16] [--fresh 8] [--threads 1]
 *
 * `securely proxy` is the real proxy (a respond route) through the same upgrade. Both servers answer a tiny GET on loopback; the same raw-socket load generator counts every
 * refused connection, reset and request without a complete response (nothing is retried). Prints
 * one line per run and the ratios. Bounded: each run stops after --seconds or 2M requests.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { runLoad, type LoadStats } from "../../test/core/server/load.ts";

const { values: o } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    upgrades: { type: "string", default: "4" },
    keepalive: { type: "string", default: "16" },
    fresh: { type: "string", default: "8" },
    threads: { type: "string", default: "1" },
    only: { type: "string" }, // name prefix: "securely fixture", "securely proxy", "nginx"
  },
});
const SECONDS = Number(o.seconds);
const UPGRADES = Number(o.upgrades);
const ROOT = resolve(import.meta.dir, "../..");
const FIXTURE = join(ROOT, "test/core/server/fixtures/securely-fixture.ts");
const NGINX = "/usr/sbin/nginx";

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

async function until(fn: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(20);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Target {
  name: string;
  start(port: number, dir: string): Promise<void>;
  /** One upgrade; resolves once the old instance is gone. */
  upgrade(): Promise<void>;
  stop(): Promise<void>;
}

/** `service`: "fixture" (test HTTP service, HttpDrain) or "proxy" (the real proxy answering a respond route). */
function securely(threads: number, service: "fixture" | "proxy" = "fixture"): Target {
  let dir = "";
  let current: Bun.Subprocess | undefined;
  const spawn = async (args: string[]) => {
    const proc = Bun.spawn([process.execPath, FIXTURE, "serve", ...args, "-c", join(dir, "securely.config.yaml")], {
      env: { ...process.env, SECURELY_LOG_LEVEL: "warn" },
      stdout: "pipe",
      stderr: "inherit",
    });
    const reader = proc.stdout.getReader();
    let text = "";
    while (!text.includes("securely ready")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`securely exited: ${text}`);
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    void proc.stdout.pipeTo(new WritableStream());
    return proc;
  };
  return {
    name: `securely ${service} threads=${threads}`,
    async start(port, d) {
      dir = d;
      writeFileSync(
        join(dir, "securely.config.yaml"),
        `pid_file: ${dir}/s.pid\nupgrade_sock: ${dir}/u.sock\nthreads: ${threads}\nstore:\n  path: ${dir}/s.db\nmetrics:\n  enabled: false\n` +
          (service === "fixture"
            ? `fixture:\n  enabled: true\n  listen: 127.0.0.1:${port}\n`
            : `proxy:\n  enabled: true\n  listen: [127.0.0.1:${port}]\n  routes:\n    - { name: ok, match: { path: / }, respond: { status: 200, body: "ok" } }\n`),
      );
      current = await spawn([]);
    },
    async upgrade() {
      const old = current!;
      old.kill("SIGQUIT");
      current = await spawn(["-u"]);
      await old.exited;
    },
    async stop() {
      current?.kill("SIGINT");
      await current?.exited;
    },
  };
}

function nginx(): Target {
  let dir = "";
  const pidFile = () => join(dir, "nginx.pid");
  const pid = () => Number(readFileSync(pidFile(), "utf8"));
  return {
    name: "nginx (USR2 binary upgrade)",
    async start(port, d) {
      dir = d;
      writeFileSync(
        join(dir, "nginx.conf"),
        `daemon on; pid ${pidFile()}; error_log ${dir}/error.log; worker_processes 1;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:${port}; location / { add_header x-pid $pid; return 200 "ok\\n"; } } }\n`,
      );
      const p = Bun.spawn([NGINX, "-p", dir, "-c", join(dir, "nginx.conf")], { stderr: "inherit" });
      if ((await p.exited) !== 0) throw new Error("nginx failed to start");
      await until(() => existsSync(pidFile()));
    },
    async upgrade() {
      const old = pid();
      process.kill(old, "SIGUSR2");
      await until(() => existsSync(pidFile()) && pid() !== old && existsSync(`${pidFile()}.oldbin`));
      await Bun.sleep(200); // the new master's workers start accepting
      process.kill(old, "SIGQUIT");
      await until(() => !alive(old));
    },
    async stop() {
      const p = pid();
      process.kill(p, "SIGQUIT");
      await until(() => !alive(p));
    },
  };
}

async function run(t: Target): Promise<LoadStats & { upgrades: number }> {
  const dir = mkdtempSync(join(tmpdir(), "securely-bench-upgrade-"));
  try {
    const port = await freePort();
    await t.start(port, dir);
    const load = runLoad({ port, keepAliveClients: Number(o.keepalive), freshClients: Number(o.fresh), maxRequests: 2_000_000, maxMs: SECONDS * 1000 });
    const every = (SECONDS * 1000) / (UPGRADES + 1);
    let done = 0;
    for (let i = 0; i < UPGRADES; i++) {
      await Bun.sleep(every);
      await t.upgrade();
      done++;
    }
    const stats = await load.done;
    await t.stop();
    return { ...stats, upgrades: done };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const targets = [securely(Number(o.threads)), securely(Number(o.threads), "proxy"), ...(existsSync(NGINX) ? [nginx()] : [])].filter((t) => !o.only || t.name.startsWith(o.only));
const rows: Array<{ name: string; s: LoadStats & { upgrades: number } }> = [];
let migrate = "?";
try {
  migrate = readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim();
} catch {}
console.log(`upgrade under load: ${SECONDS} s, ${UPGRADES} upgrades, ${o.keepalive} keep-alive + ${o.fresh} new-connection clients, loopback, tcp_migrate_req=${migrate}`);
for (const t of targets) {
  const s = await run(t);
  rows.push({ name: t.name, s });
  const rps = Math.round((s.ok * 1000) / s.elapsedMs);
  console.log(
    `${t.name.padEnd(30)} ok ${String(s.ok).padStart(8)}  failed ${s.failed} (refused ${s.refused}, reset ${s.reset}, incomplete ${s.incomplete})  ${rps} req/s  upgrades ${s.upgrades}  reconnects ${s.reconnects}${s.errors.length ? `  first errors: ${s.errors.slice(0, 3).join("; ")}` : ""}`,
  );
}
const a = rows.find((r) => r.name.startsWith("securely fixture"));
const b = rows.find((r) => r.name.startsWith("nginx"));
if (a && b) {
  const rps = (r: (typeof rows)[0]) => r.s.ok / r.s.elapsedMs;
  console.log(`ratio securely/nginx: throughput ${(rps(a) / rps(b)).toFixed(2)}x, failed requests ${a.s.failed} vs ${b.s.failed}`);
}
