/**
 * Least connections (nginx least_conn): the admitted peer with the fewest in-flight requests per
 * unit of weight; ties rotate so equal peers share the load instead of the first taking all.
 */
import type { Peer } from "../upstream/peer.ts";
import type { Selector, SelectorFactory } from "./types.ts";

export const leastConn: SelectorFactory = (peers: Peer[]): Selector => {
  let offset = 0;
  return {
    select(_ctx, accept) {
      let best: Peer | undefined;
      let bestScore = Infinity;
      const n = peers.length;
      for (let k = 0; k < n; k++) {
        const p = peers[(offset + k) % n]!;
        if (!accept(p)) continue;
        const score = p.active / p.weight;
        if (score < bestScore) [best, bestScore] = [p, score];
      }
      offset = (offset + 1) % Math.max(n, 1);
      return best;
    },
  };
};
