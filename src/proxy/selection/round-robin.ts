/**
 * Smooth weighted round robin, as nginx does it (ngx_http_upstream_get_peer): each pick adds every
 * peer's weight to its running score, takes the highest, and subtracts the total. Weights 5,1,1
 * give a,a,b,a,c,a,a — spread out rather than a,a,a,a,a,b,c (Pingora #195).
 */
import type { Peer } from "../upstream/peer.ts";
import type { Selector, SelectorFactory } from "./types.ts";

export const roundRobin: SelectorFactory = (peers: Peer[]): Selector => {
  const current = new Float64Array(peers.length);
  return {
    select(_ctx, accept) {
      let best = -1;
      let total = 0;
      for (let i = 0; i < peers.length; i++) {
        const p = peers[i]!;
        if (!accept(p)) continue;
        current[i]! += p.weight;
        total += p.weight;
        if (best < 0 || current[i]! > current[best]!) best = i;
      }
      if (best < 0) return undefined;
      current[best]! -= total;
      return peers[best];
    },
  };
};
