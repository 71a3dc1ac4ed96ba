/** The message model securely answers with: plain objects, types as numbers, names without the trailing dot. */

/** A resource record; `data` is in dns-packet's shape for its type, or a Buffer for raw (RFC 3597) rdata. */
export interface Rr {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: any;
}

export interface Question {
  name: string;
  type: number;
  class: number;
}

/** The OPT pseudo-record (RFC 6891 §6.1.2). */
export interface Edns {
  udpSize: number;
  version: number;
  /** DNSSEC OK bit (RFC 3225). */
  dnssecOk: boolean;
  /** Name-server identifier to send (RFC 5001), when the client asked and one is configured. */
  nsid?: Buffer;
}

export interface Message {
  id: number;
  /** Second header word without the RCODE's low bits: QR, opcode, AA, TC, RD, RA, Z, AD, CD. */
  flags: number;
  /** Full RCODE (up to 12 bits with EDNS; the upper 8 bits go into OPT). */
  rcode: number;
  question?: Question;
  answers: Rr[];
  authorities: Rr[];
  additionals: Rr[];
  /** Present when the response carries an OPT record. */
  edns?: Edns;
}
