/**
 * Consistent hashing on a Ketama ring (Pingora's `Consistent`, nginx `hash … consistent`): each peer
 * gets 160 points per unit of weight; a key maps to the first point clockwise whose peer is admitted,
 * so removing one peer only moves that peer's keys.
 */
import type { Peer } from "../upstream/peer.ts";
import type { Selector, SelectorFactory } from "./types.ts";

const POINTS_PER_WEIGHT = 160;

function hash32(s: string): number {
  return Number(Bun.hash.crc32(s));
}

export const consistentHash: SelectorFactory = (peers: Peer[]): Selector => {
  const ring: { point: number; peer: Peer }[] = [];
  for (const p of peers) {
    for (let i = 0; i < POINTS_PER_WEIGHT * p.weight; i++) ring.push({ point: hash32(`${p.addr}-${i}`), peer: p });
  }
  ring.sort((a, b) => a.point - b.point);
  return {
    select(ctx, accept) {
      if (ring.length === 0) return undefined;
      const h = hash32(ctx.key);
      let lo = 0;
      let hi = ring.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ring[mid]!.point < h) lo = mid + 1;
        else hi = mid;
      }
      // walk clockwise past peers that are down or already tried, at most once round the ring
      for (let k = 0; k < ring.length; k++) {
        const e = ring[(lo + k) % ring.length]!;
        if (accept(e.peer)) return e.peer;
      }
      return undefined;
    },
  };
};
