/**
 * Active health checks (Pingora's TcpHealthCheck / HttpHealthCheck, HAProxy's rise/fall): every
 * `interval` each server of an upstream is probed; `fall` consecutive failures mark it down, `rise`
 * consecutive successes mark it up again. Probes of one round run in parallel.
 */
import type { Peer } from "../upstream/peer.ts";
import type { Upstream } from "../upstream/upstream.ts";

/** One probe: resolves to undefined when healthy, or the reason it is not. */
export async function probe(peer: Peer, up: Upstream): Promise<string | undefined> {
  const c = up.cfg.health.active;
  const timeoutMs = Math.round(c.timeout * 1000);
  if (c.type === "tcp") {
    let timer: Timer | undefined;
    try {
      const opts: any = { socket: { data() {}, open() {} } };
      if (peer.unix) opts.unix = peer.unix;
      else Object.assign(opts, { hostname: peer.host, port: peer.port });
      const sock = await Promise.race([
        Bun.connect(opts),
        new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs))),
      ]);
      sock.end();
      return undefined;
    } catch (e) {
      return `tcp check: ${(e as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
  }
  const scheme = peer.tls ? "https" : "http";
  const url = `${scheme}://${peer.hostHeader}${c.path}`;
  try {
    const res = await fetch(url, {
      headers: { host: c.host ?? peer.hostHeader, "user-agent": "securely-health-check" },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
      unix: peer.unix,
      tls: peer.tls ? { rejectUnauthorized: peer.tls.verifyCert, serverName: peer.tls.sni, ca: peer.tls.ca } : undefined,
    } as RequestInit);
    const body = c.expect_body !== undefined ? await res.text() : (await res.body?.cancel(), "");
    if (!c.expect_status.includes(res.status)) return `http check ${c.path}: status ${res.status}, expected ${c.expect_status.join("/")}`;
    if (c.expect_body !== undefined && !body.includes(c.expect_body)) return `http check ${c.path}: body does not contain ${JSON.stringify(c.expect_body)}`;
    return undefined;
  } catch (e) {
    return `http check ${c.path}: ${(e as Error).message}`;
  }
}

/** Apply one probe result with rise/fall hysteresis. */
export function applyResult(peer: Peer, up: Upstream, failure: string | undefined): void {
  const c = up.cfg.health.active;
  if (failure === undefined) {
    peer.failStreak = 0;
    peer.okStreak++;
    if (!peer.healthy && peer.okStreak >= c.rise) up.setHealth(peer, true, `${peer.okStreak} successful check(s)`);
  } else {
    peer.okStreak = 0;
    peer.failStreak++;
    if (peer.healthy && peer.failStreak >= c.fall) up.setHealth(peer, false, failure);
  }
}

/** Probe every server of `up` once. */
export async function checkUpstream(up: Upstream): Promise<void> {
  await Promise.all(up.peers.map(async (p) => applyResult(p, up, await probe(p, up))));
}
