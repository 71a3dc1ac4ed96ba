/**
 * Power of two random choices (nginx `random two least_conn`, HAProxy `random(2)`): draw two peers
 * by weight and keep the one with fewer requests in flight. Near least_conn quality, no global scan.
 */
import type { Peer } from "../upstream/peer.ts";
import { weightedRandom } from "./random.ts";
import type { Selector, SelectorFactory } from "./types.ts";

export const powerOfTwo: SelectorFactory = (peers: Peer[]): Selector => ({
  select(_ctx, accept) {
    const a = weightedRandom(peers, accept);
    if (!a) return undefined;
    const b = weightedRandom(peers, (p) => p !== a && accept(p));
    if (!b) return a;
    return b.active / b.weight < a.active / a.weight ? b : a;
  },
});
