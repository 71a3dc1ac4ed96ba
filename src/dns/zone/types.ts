/** Contracts of the zone layer (Hickory's ZoneHandler/Catalog split). */
import type { Rr } from "../wire/types.ts";

/** What an authoritative lookup produced; the server turns it into a message. */
export interface LookupResult {
  rcode: number;
  /** AA: false only for referrals (RFC 1034 §4.3.2 step 3b). */
  authoritative: boolean;
  answers: Rr[];
  authorities: Rr[];
  additionals: Rr[];
}

/** Where a zone came from, for `dns:zone:list` and error messages. */
export type ZoneSource = "file" | "config" | "store" | "local";
