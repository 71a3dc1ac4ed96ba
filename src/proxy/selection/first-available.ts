/** First available (Caddy `first`): always the first admitted peer in config order — active/passive failover. */
import type { Peer } from "../upstream/peer.ts";
import type { Selector, SelectorFactory } from "./types.ts";

export const firstAvailable: SelectorFactory = (peers: Peer[]): Selector => ({
  select: (_ctx, accept) => peers.find(accept),
});
