/**
 * WebSocket passthrough. Bun.serve does not hand out the raw client socket, so a WebSocket upgrade
 * is bridged at the message level: the proxy opens a WebSocket to the upstream first (so a refused
 * upgrade becomes 502 before the client is switched), then upgrades the client and relays every
 * message and close both ways. Other HTTP Upgrade protocols (h2c, custom) are not supported.
 */
import type { ServerWebSocket } from "bun";
import type { HeaderSource } from "./routing/table.ts";
import type { Peer } from "./upstream/peer.ts";

export interface WsBridge {
  upstream: WebSocket;
  protocol?: string;
  /** Messages from the client that arrived before the upstream side was wired. */
  client?: ServerWebSocket<WsBridge>;
}

const PASS = ["origin", "cookie", "authorization", "user-agent", "sec-websocket-extensions"];

export function proxyWebSocket(peer: Peer, target: string, h: HeaderSource, fwd: { for: string; proto: string; host: string }): Promise<WsBridge | Response> {
  const scheme = peer.tls ? "wss" : "ws";
  const url = peer.unix ? `ws+unix://${peer.unix}:${target}` : `${scheme}://${peer.hostHeader}${target}`;
  const headers: Record<string, string> = { "x-forwarded-for": fwd.for, "x-forwarded-proto": fwd.proto, "x-forwarded-host": fwd.host };
  for (const k of PASS) {
    const v = h.get(k);
    if (v) headers[k] = v;
  }
  const host = h.get("host");
  if (host) headers.host = host;
  const protocols = h.get("sec-websocket-protocol")?.split(",").map((s) => s.trim()).filter(Boolean);
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, protocols, tls: peer.tls ? { rejectUnauthorized: peer.tls.verifyCert } : undefined } as any);
    ws.binaryType = "arraybuffer";
    const t = setTimeout(() => {
      ws.close();
      resolve(new Response("bad gateway: upstream websocket handshake timed out\n", { status: 502 }));
    }, peer.options.connectionTimeoutMs);
    const pending: Array<string | ArrayBuffer> = [];
    const bridge: WsBridge = { upstream: ws };
    ws.onopen = () => {
      clearTimeout(t);
      bridge.protocol = ws.protocol || undefined;
      resolve(bridge);
    };
    ws.onerror = () => {
      clearTimeout(t);
      resolve(new Response(`bad gateway: upstream ${peer.addr} refused the websocket upgrade\n`, { status: 502 }));
    };
    ws.onmessage = (ev) => {
      if (bridge.client) bridge.client.send(ev.data as any);
      else pending.push(ev.data as any);
    };
    ws.onclose = (ev) => {
      bridge.client?.close(ev.code === 1005 || ev.code === 1006 ? 1000 : ev.code, ev.reason);
    };
    (bridge as any).pending = pending;
  });
}

/** Bun.serve websocket handlers for bridged connections. */
export const websocketHandlers = {
  open(ws: ServerWebSocket<WsBridge>) {
    ws.data.client = ws;
    const pending = (ws.data as any).pending as Array<string | ArrayBuffer>;
    for (const m of pending.splice(0)) ws.send(m as any);
  },
  message(ws: ServerWebSocket<WsBridge>, msg: string | Buffer) {
    if (ws.data.upstream.readyState === WebSocket.OPEN) ws.data.upstream.send(msg);
  },
  close(ws: ServerWebSocket<WsBridge>, code: number, reason: string) {
    const up = ws.data.upstream;
    if (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING) up.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  },
};
