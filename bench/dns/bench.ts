/**
 * securely dns:serve vs Knot, Unbound and dnsmasq on loopback, side by side in one run: each server pinned
 * to CPU 0, dnsperf to CPU 1. For each server and scenario: achieved QPS, server CPU (user+sys
 * from /proc) per query, p50/p99 latency (dnsperf -v), and the ratios to securely. securely-nagle is
 * securely with `dns.tcp_nodelay: false` (TCP scenarios only).
 *
 *   npx bun bench/dns/bench.ts [--seconds 8] [--rate 20000] [--repeat 3] [--only securely,knot,dnsmasq]
 *                              [--scenarios udp-rate,udp-max,tcp-rate] [--io native|eventloop] [--udp-socket dgram|bun]
 *
 * Scenarios (udp|tcp)-(rate|max|lockstep): rate = paced at --rate with up to 200 outstanding (many
 * independent clients); max = 200 outstanding, unpaced (saturation); lockstep = 10 outstanding,
 * unpaced, so each query waits for an answer before the next is sent (stub resolvers).
 *
 * Bounded: every dnsperf run has -l SECONDS; every server is killed at the end.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const SECONDS = Number(opt("seconds", "8"));
const RATE = Number(opt("rate", "20000"));
const ONLY = opt("only", "securely,securely-nagle,bun-udp-floor,knot,unbound,dnsmasq").split(",");
const UDP_SOCKET = opt("udp-socket", "dgram");
/** securely's dns.io: native (the I/O thread) or eventloop (Bun's sockets). */
const IO = opt("io", "native");
const SCENARIOS = opt("scenarios", "udp-rate,udp-max,udp-lockstep,tcp-rate,tcp-max,tcp-lockstep").split(",");
/** Rounds: servers are interleaved round by round and the median round is reported (shared machine). */
const REPEAT = Number(opt("repeat", "1"));
const ROOT = resolve(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "dns-bench-"));
const procs: Bun.Subprocess[] = [];

const ZONE = `$ORIGIN example.com.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 1209600 300
  IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.1
mail IN A 192.0.2.25
@ IN MX 10 mail
api IN AAAA 2001:db8::1
`;
writeFileSync(join(dir, "example.com.zone"), ZONE);
// authoritative hits: a few names and types, as a real zone sees
writeFileSync(join(dir, "queries.txt"), ["www.example.com A", "mail.example.com A", "example.com MX", "api.example.com AAAA", "ns1.example.com A"].join("\n") + "\n");

interface Server {
  name: string;
  port: number;
  start(): Promise<Bun.Subprocess>;
}

/**
 * Not a DNS server: a Bun node:dgram socket that bounces each query straight back with QR set,
 * batched like securely's sends. It does no DNS work at all, so its queries per CPU-second are
 * the ceiling Bun's UDP path allows on this machine (UDP scenarios only).
 */
const ECHO = `import { createSocket } from "node:dgram";
const sock = createSocket({ type: "udp4", reusePort: true });
sock.bind(5404, "127.0.0.1", () => {
  const sym = Object.getOwnPropertySymbols(sock).find((s) => String(s) === "Symbol(state symbol)");
  const raw = sock[sym].handle.socket;
  let pending = [], scheduled = false;
  const flush = () => { scheduled = false; const l = pending; pending = []; raw.sendMany(l); };
  sock.on("message", (msg, rinfo) => {
    msg[2] |= 0x80;
    pending.push(msg, rinfo.port, rinfo.address);
    if (!scheduled) { scheduled = true; setImmediate(flush); }
  });
  console.log("echo ready");
});
`;

const servers: Server[] = [
  {
    name: "securely",
    port: 5401,
    async start() {
      writeFileSync(join(dir, "securely.config.yaml"), `store:\n  path: ${dir}/store.db\nmetrics:\n  enabled: false\ndns:\n  listen: ["127.0.0.1:5401"]\n  io: ${IO}\n  udp_socket: ${UDP_SOCKET}\n  zones:\n    example.com:\n      file: example.com.zone\n`);
      return spawnPinned(["bun", join(ROOT, "src/main.ts"), "dns:serve", "-c", join(dir, "securely.config.yaml")], /securely ready/);
    },
  },
  {
    // the same with `tcp_nodelay: false`: Nagle on, as Knot and Unbound run (TCP scenarios only)
    name: "securely-nagle",
    port: 5406,
    async start() {
      writeFileSync(join(dir, "securely-nagle.config.yaml"), `store:\n  path: ${dir}/store-nagle.db\nmetrics:\n  enabled: false\ndns:\n  listen: ["127.0.0.1:5406"]\n  io: ${IO}\n  udp_socket: ${UDP_SOCKET}\n  tcp_nodelay: false\n  zones:\n    example.com:\n      file: example.com.zone\n`);
      return spawnPinned(["bun", join(ROOT, "src/main.ts"), "dns:serve", "-c", join(dir, "securely-nagle.config.yaml")], /securely ready/);
    },
  },
  {
    name: "bun-udp-floor",
    port: 5404,
    async start() {
      writeFileSync(join(dir, "echo.ts"), ECHO);
      return spawnPinned(["bun", join(dir, "echo.ts")], /echo ready/);
    },
  },
  {
    name: "knot",
    port: 5402,
    async start() {
      writeFileSync(join(dir, "knot.conf"), `server:\n  rundir: ${dir}\n  listen: 127.0.0.1@5402\n  udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\ndatabase:\n  storage: ${dir}/knotdb\nlog:\n  - target: stderr\n    any: warning\nzone:\n  - domain: example.com\n    storage: ${dir}\n    file: example.com.zone\n`);
      const p = await spawnPinned(["knotd", "-c", join(dir, "knot.conf")], undefined);
      await waitUdp(5402);
      return p;
    },
  },
  {
    name: "unbound",
    port: 5405,
    async start() {
      // auth-zone: Unbound serves the same zone file authoritatively (AA), one thread
      const conf = `server:\n  interface: 127.0.0.1\n  port: 5405\n  do-daemonize: no\n  username: ""\n  chroot: ""\n  directory: "${dir}"\n  pidfile: "${dir}/unbound.pid"\n  num-threads: 1\n  use-syslog: no\n  logfile: ""\n  verbosity: 0\n  access-control: 127.0.0.0/8 allow\n  do-ip6: no\nauth-zone:\n  name: "example.com"\n  zonefile: "${dir}/example.com.zone"\n  for-downstream: yes\n  for-upstream: no\nremote-control:\n  control-enable: no\n`;
      writeFileSync(join(dir, "unbound.conf"), conf);
      const p = await spawnPinned(["unbound", "-d", "-c", join(dir, "unbound.conf")], undefined);
      await waitUdp(5405);
      return p;
    },
  },
  {
    name: "dnsmasq",
    port: 5403,
    async start() {
      // dnsmasq has no zone files: the same data as local records, authoritative for the zone
      const conf = [
        "port=5403", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts", "keep-in-foreground", "cache-size=0",
        "local=/example.com/", "host-record=www.example.com,192.0.2.1", "host-record=mail.example.com,192.0.2.25",
        "host-record=ns1.example.com,192.0.2.53", "host-record=api.example.com,2001:db8::1", "mx-host=example.com,mail.example.com,10",
        `pid-file=${dir}/dnsmasq.pid`, "user=root",
      ];
      writeFileSync(join(dir, "dnsmasq.conf"), conf.join("\n") + "\n");
      const p = await spawnPinned(["dnsmasq", "-C", join(dir, "dnsmasq.conf")], undefined);
      await waitUdp(5403);
      return p;
    },
  },
];

async function spawnPinned(cmd: string[], ready: RegExp | undefined): Promise<Bun.Subprocess> {
  const exe = cmd[0] === "bun" ? process.execPath : cmd[0]!;
  const p = Bun.spawn(["taskset", "-c", "0", exe, ...cmd.slice(1)], { stdout: "pipe", stderr: "pipe", env: { ...process.env, SECURELY_LOG_LEVEL: "warn" } });
  procs.push(p);
  if (ready) {
    const reader = p.stdout.getReader();
    let text = "";
    const end = Date.now() + 15000;
    while (!ready.test(text) && Date.now() < end) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    if (!ready.test(text)) throw new Error(`${cmd.join(" ")} did not become ready:\n${text}\n${await new Response(p.stderr).text()}`);
  }
  return p;
}

async function waitUdp(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = Bun.spawnSync(["dig", "@127.0.0.1", "-p", String(port), "+time=1", "+tries=1", "+short", "www.example.com"]);
    if (r.stdout.toString().includes("192.0.2.1")) return;
    await Bun.sleep(100);
  }
  throw new Error(`server on ${port} does not answer`);
}

/** user+sys CPU seconds of a process and its children threads (/proc/PID/stat, clock ticks). */
function cpuSeconds(pid: number): number {
  // taskset execs the server, so the pid is the server's
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  // fields 13/14: children reaped by the server (dnsmasq forks one per TCP connection)
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
}

interface Result {
  qps: number;
  cpu: number;
  perCpu: number;
  /** dnsperf's own CPU: with Nagle a server's transmits run inside the client's syscalls (see the docs). */
  clientCpu: number;
  /** Queries per CPU-second of server and client together. */
  perTotalCpu: number;
  lost: number;
  p50?: number;
  p99?: number;
}

function runDnsperf(port: number, mode: "udp" | "tcp", rate: number | undefined, pid: number, verbose: boolean, outstanding = 200): Result {
  const cmd = ["taskset", "-c", "1", "dnsperf", "-s", "127.0.0.1", "-p", String(port), "-m", mode, "-d", join(dir, "queries.txt"), "-l", String(SECONDS), "-c", mode === "tcp" ? "10" : "1", "-q", String(outstanding)];
  if (rate) cmd.push("-Q", String(rate));
  if (verbose) cmd.push("-v");
  const before = cpuSeconds(pid);
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", maxBuffer: 512 * 1024 * 1024 } as any);
  const cpu = cpuSeconds(pid) - before;
  const out = r.stdout.toString();
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const clientCpu = Number((r as any).resourceUsage?.cpuTime?.total ?? 0n) / 1e6;
  const res: Result = { qps, cpu, perCpu: cpu > 0 ? completed / cpu : 0, clientCpu, perTotalCpu: cpu + clientCpu > 0 ? completed / (cpu + clientCpu) : 0, lost };
  if (verbose) {
    const lat = [...out.matchAll(/^> \S+ .* ([\d.]+)$/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    if (lat.length) {
      res.p50 = lat[Math.floor(lat.length * 0.5)]! * 1000;
      res.p99 = lat[Math.floor(lat.length * 0.99)]! * 1000;
    }
  }
  return res;
}

const rounds: Record<string, Record<string, Result[]>> = {};
try {
  for (let round = 0; round < REPEAT; round++) {
    for (const s of servers.filter((s) => ONLY.includes(s.name))) {
      const p = await s.start();
      rounds[s.name] ??= {};
      runDnsperfShort(s.port); // warm up (JIT, caches)
      for (const sc of SCENARIOS) {
        const [mode, kind] = sc.split("-") as ["udp" | "tcp", string];
        if ((s.name === "bun-udp-floor" && mode === "tcp") || (s.name === "securely-nagle" && mode === "udp")) continue;
        // lockstep: as many queries outstanding as connections, so each waits for its answer (a stub's pattern)
        const r = runDnsperf(s.port, mode, kind === "rate" ? RATE : undefined, p.pid, kind !== "max", kind === "lockstep" ? 10 : 200);
        (rounds[s.name]![sc] ??= []).push(r);
        console.error(`round ${round + 1} ${s.name} ${sc}: ${JSON.stringify(r)}`);
      }
      p.kill("SIGKILL");
      await p.exited;
    }
  }
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}

/** The round with the median queries-per-CPU-second. */
const median = (rs: Result[]) => [...rs].sort((a, b) => a.perCpu - b.perCpu)[Math.floor(rs.length / 2)]!;
const results: Record<string, Record<string, Result>> = {};
for (const [name, bySc] of Object.entries(rounds)) {
  results[name] = {};
  for (const [sc, rs] of Object.entries(bySc)) results[name]![sc] = median(rs);
}

function runDnsperfShort(port: number) {
  Bun.spawnSync(["taskset", "-c", "1", "dnsperf", "-s", "127.0.0.1", "-p", String(port), "-d", join(dir, "queries.txt"), "-l", "2", "-Q", "5000"], { stdout: "ignore", stderr: "ignore" });
}

const fmt = (n: number | undefined, d = 0) => (n === undefined ? "-" : n.toFixed(d));
console.log(`\n# dns benchmark: median of ${REPEAT} round(s), ${SECONDS}s per run, fixed rate ${RATE} qps, server on CPU 0, dnsperf on CPU 1, securely io=${IO}, udp_socket=${UDP_SOCKET}\n`);
console.log("| scenario | server | QPS | lost | server CPU s | queries per CPU-second | p50 ms | p99 ms | securely / this (per CPU) | dnsperf CPU s | per server+client CPU-s | securely / this (server+client) |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const sc of SCENARIOS) {
  for (const [name, rs] of Object.entries(results)) {
    const r = rs[sc];
    if (!r) continue;
    const mine = results.securely?.[sc];
    const ratio = mine && r.perCpu ? (mine.perCpu / r.perCpu).toFixed(2) : "-";
    const total = mine && r.perTotalCpu ? (mine.perTotalCpu / r.perTotalCpu).toFixed(2) : "-";
    console.log(`| ${sc} | ${name} | ${fmt(r.qps)} | ${r.lost} | ${fmt(r.cpu, 2)} | ${fmt(r.perCpu)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} | ${ratio} | ${fmt(r.clientCpu, 2)} | ${fmt(r.perTotalCpu)} | ${total} |`);
  }
}
