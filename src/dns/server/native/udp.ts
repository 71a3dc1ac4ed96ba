/**
 * UDP on the DNS I/O thread: up to 64 queries per recvmmsg, their answers in one sendmmsg. The
 * buffers and message headers are built once and shared by every UDP socket (the thread handles
 * one socket at a time).
 */
import { addr, C, offset, type Libc } from "../../../core/native/libc.ts";
import type { Answer } from "../handler.ts";
import { NativeClient } from "./client.ts";

/** Datagrams per recvmmsg/sendmmsg call. */
const BATCH = 64;
/** Batches per readiness event: a flood on one socket must not starve TCP and the main thread's replies. */
const MAX_BATCHES = 4;
/** Receive slot per datagram (max_udp_payload is at most 4096); a larger query is dropped. */
const SLOT = 4096;
/** Room for a sockaddr_in6. */
const NAME = 32;
/** struct mmsghdr on 64-bit Linux. */
const HDR = 64;

export type OnQuery = (query: Uint8Array, client: NativeClient) => Answer | Promise<Answer>;

export class UdpBatch {
  private sys: Libc["sys"];
  private rData = new Uint8Array(BATCH * SLOT);
  private names = new Uint8Array(BATCH * NAME);
  private rIov = new BigUint64Array(BATCH * 2);
  private rHdr = new Uint8Array(BATCH * HDR);
  private rView = new DataView(this.rHdr.buffer);
  private sData = new Uint8Array(BATCH * SLOT);
  private sIov = new BigUint64Array(BATCH * 2);
  private sIov32 = new Uint32Array(this.sIov.buffer);
  private sHdr = new Uint8Array(BATCH * HDR);
  private sView = new DataView(this.sHdr.buffer);
  private nameAddr: bigint[] = [];
  private client: NativeClient;

  constructor(private libc: Libc, private onQuery: OnQuery, private onDrop: (reason: string) => void) {
    this.sys = libc.sys;
    this.client = new NativeClient(this.names);
    const rData = BigInt(addr(this.rData)), sData = BigInt(addr(this.sData)), names = BigInt(addr(this.names));
    const rIov = BigInt(addr(this.rIov)), sIov = BigInt(addr(this.sIov));
    for (let i = 0; i < BATCH; i++) {
      this.rIov[i * 2] = rData + BigInt(i * SLOT);
      this.rIov[i * 2 + 1] = BigInt(SLOT);
      this.sIov[i * 2] = sData + BigInt(i * SLOT);
      this.nameAddr.push(names + BigInt(i * NAME));
      const o = i * HDR;
      this.rView.setBigUint64(o, this.nameAddr[i]!, true); // msg_name
      this.rView.setUint32(o + 8, NAME, true); // msg_namelen
      this.rView.setBigUint64(o + 16, rIov + BigInt(i * 16), true); // msg_iov
      this.rView.setBigUint64(o + 24, 1n, true); // msg_iovlen
      this.sView.setBigUint64(o + 16, sIov + BigInt(i * 16), true);
      this.sView.setBigUint64(o + 24, 1n, true);
    }
  }

  /** Read and answer what `fd` has (bounded); returns the number of queries answered. */
  read(fd: number): number {
    const rv = this.rView;
    let answered = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const n = this.sys.recvmmsg(fd, addr(this.rHdr), BATCH, C.MSG_DONTWAIT, null);
      if (n <= 0) break;
      let out = 0;
      for (let i = 0; i < n; i++) {
        const o = i * HDR;
        const len = rv.getUint32(o + 56, true); // msg_len
        const truncated = (rv.getUint32(o + 48, true) & C.MSG_TRUNC) !== 0; // msg_flags
        rv.setUint32(o + 8, NAME, true); // the kernel wrote the sender's length; restore it for the next batch
        if (truncated) {
          this.onDrop("oversize");
          continue;
        }
        // source port 0 cannot be answered, and one failed send would stop the rest of the batch
        if (this.names[i * NAME + 2] === 0 && this.names[i * NAME + 3] === 0) {
          this.onDrop("port-0");
          continue;
        }
        this.client.udp(fd, i * NAME);
        answered++;
        let a: Answer | Promise<Answer>;
        try {
          a = this.onQuery(this.rData.subarray(i * SLOT, i * SLOT + len), this.client);
        } catch {
          continue; // a bug on one packet must not take the listener down
        }
        if (a === undefined || a instanceof Promise) continue;
        if (Array.isArray(a)) {
          for (const m of a) if (out < BATCH && m.length <= SLOT) this.queue(out++, m, i);
        } else if (out < BATCH && a.length <= SLOT) this.queue(out++, a, i);
      }
      this.send(fd, out);
      if (n < BATCH) break;
    }
    return answered;
  }

  private queue(j: number, msg: Uint8Array, from: number): void {
    this.sData.set(msg, j * SLOT);
    this.sIov32[j * 4 + 2] = msg.length;
    const o = j * HDR;
    this.sView.setBigUint64(o, this.nameAddr[from]!, true);
    this.sView.setUint32(o + 8, this.names[from * NAME] === C.AF_INET6 ? 28 : 16, true);
  }

  /** sendmmsg stops at the first datagram that fails: skip that one and send the rest. */
  private send(fd: number, count: number): void {
    const base = addr(this.sHdr);
    for (let sent = 0; sent < count; ) {
      const r = this.sys.sendmmsg(fd, offset(base, sent * HDR), count - sent, C.MSG_DONTWAIT);
      if (r > 0) {
        sent += r;
        continue;
      }
      const e = this.libc.errno();
      if (e === C.EAGAIN || e === C.ENOBUFS) {
        this.onDrop("send-buffer"); // full: the rest is dropped, as UDP does
        return;
      }
      this.onDrop("send-error");
      sent++;
    }
  }

  /** An answer the main thread produced for a delegated query. */
  sendTo(fd: number, sockaddr: Uint8Array, msg: Uint8Array): void {
    this.sys.sendto(fd, addr(msg), msg.length, C.MSG_DONTWAIT, addr(sockaddr), sockaddr.length);
  }
}
