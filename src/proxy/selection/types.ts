/** The load-balancing contract: one policy per file, all behind the registry in index.ts. */
import type { Peer } from "../upstream/peer.ts";

export interface SelectContext {
  /** Hash input for consistent_hash (client IP, URI, header/cookie/query value). */
  key: string;
  /** Value of the sticky cookie sent by the client, for `cookie`. */
  cookie?: string;
}

export interface Selector {
  /**
   * Pick a peer that `accept` admits (healthy, not already tried, primary or backup tier), as
   * Pingora's select_with does; undefined when none is admitted.
   */
  select(ctx: SelectContext, accept: (p: Peer) => boolean): Peer | undefined;
}

export type SelectorFactory = (peers: Peer[]) => Selector;
