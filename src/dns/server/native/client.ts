/** The sender of the query being answered on the DNS I/O thread (one object, reset per query). */
import { C } from "../../../core/native/libc.ts";
import { peerOf } from "../../../core/native/sockets.ts";
import type { Client } from "../handler.ts";
import type { Proto } from "../stats.ts";

export class NativeClient implements Client {
  proto: Proto = "udp";
  port = 0;
  /** UDP: the socket the query came in on. */
  fd = -1;
  /** TCP: the connection's id. */
  conn = 0;
  private text: string | undefined;

  /** `names`: where UDP senders' sockaddrs are received; `at`: this sender's offset in it. */
  constructor(private names: Uint8Array, private at = 0) {}

  /** Decoded only when something reads it (ACL, RRL, query log): most queries never do. */
  get address(): string {
    this.text ??= peerOf(this.names, this.at).address;
    return this.text;
  }

  /** The UDP sender's sockaddr, copied (the receive buffer is reused by the next batch). */
  sockaddr(): Uint8Array {
    const len = this.names[this.at] === C.AF_INET6 ? 28 : 16;
    return this.names.slice(this.at, this.at + len);
  }

  udp(fd: number, at: number): void {
    this.proto = "udp";
    this.fd = fd;
    this.conn = 0;
    this.at = at;
    this.text = undefined;
    this.port = (this.names[at + 2]! << 8) | this.names[at + 3]!;
  }

  tcp(conn: number, address: string, port: number): void {
    this.proto = "tcp";
    this.fd = -1;
    this.conn = conn;
    this.text = address;
    this.port = port;
  }
}
