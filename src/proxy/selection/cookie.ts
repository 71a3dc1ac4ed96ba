/**
 * Sticky sessions by cookie (Caddy `lb_policy cookie`, HAProxy `cookie insert`): a client whose
 * cookie names an admitted peer goes back to it; anyone else gets a smooth-round-robin pick, and
 * the proxy sets the cookie to that peer's opaque id (a hash, never its address).
 */
import type { Peer } from "../upstream/peer.ts";
import { roundRobin } from "./round-robin.ts";
import type { Selector, SelectorFactory } from "./types.ts";

export const cookieSticky: SelectorFactory = (peers: Peer[]): Selector => {
  const byId = new Map(peers.map((p) => [p.id, p]));
  const fallback = roundRobin(peers);
  return {
    select(ctx, accept) {
      const sticky = ctx.cookie ? byId.get(ctx.cookie) : undefined;
      if (sticky && accept(sticky)) return sticky;
      return fallback.select(ctx, accept);
    },
  };
};
