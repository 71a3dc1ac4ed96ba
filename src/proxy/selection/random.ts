/** Weighted random: a peer's chance is its weight over the admitted total. */
import type { Peer } from "../upstream/peer.ts";
import type { Selector, SelectorFactory } from "./types.ts";

export function weightedRandom(peers: Peer[], accept: (p: Peer) => boolean, rand = Math.random): Peer | undefined {
  let total = 0;
  for (const p of peers) if (accept(p)) total += p.weight;
  if (total === 0) return undefined;
  let r = rand() * total;
  for (const p of peers) {
    if (!accept(p)) continue;
    r -= p.weight;
    if (r < 0) return p;
  }
  return peers.findLast(accept);
}

export const random: SelectorFactory = (peers: Peer[]): Selector => ({
  select: (_ctx, accept) => weightedRandom(peers, accept),
});
