/** `dns:query`: a small dig for operators — one question, UDP (TCP on TC or --tcp), sections printed. */
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { SecurelyError, UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { dnsOptions } from "../config.ts";
import { parseUpstream, queryTcp, type Upstream } from "../resolver/upstream.ts";
import { CLASS, FLAG, rcodeName, typeName, typeNumber } from "../wire/constants.ts";
import { answersQuestion, decodeMessage } from "../wire/decode.ts";
import { encodeMessage } from "../wire/encode.ts";
import { absolute } from "../wire/names.ts";
import { formatRdata } from "../wire/rdata-text.ts";
import type { Message, Question, Rr } from "../wire/types.ts";

function queryUdp(server: Upstream, bytes: Buffer, q: Question, timeoutMs: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
    const timer = setTimeout(() => {
      sock.close();
      reject(new SecurelyError(`no answer from ${server.host}:${server.port} within ${timeoutMs} ms`, { hint: "is the server running? try --tcp or --server" }));
    }, timeoutMs);
    sock.on("message", (buf) => {
      try {
        const m = decodeMessage(buf);
        if (m.id !== bytes.readUInt16BE(0) || !answersQuestion(m, q.name, q.type, q.class)) return;
        clearTimeout(timer);
        sock.close();
        resolve(m);
      } catch {
        // not a DNS message: keep waiting
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      sock.close();
      reject(new SecurelyError(`cannot query ${server.host}:${server.port}: ${e.message}`));
    });
    sock.send(bytes, server.port, server.host);
  });
}

function flagsText(m: Message): string {
  const names: Array<[number, string]> = [[FLAG.QR, "qr"], [FLAG.AA, "aa"], [FLAG.TC, "tc"], [FLAG.RD, "rd"], [FLAG.RA, "ra"], [FLAG.AD, "ad"], [FLAG.CD, "cd"]];
  return names.filter(([b]) => m.flags & b).map(([, n]) => n).join(" ");
}

function rrText(rr: Rr): Record<string, unknown> {
  return { name: absolute(rr.name), ttl: rr.ttl, type: typeName(rr.type), data: formatRdata(rr.type, rr.data) };
}

export const queryCommand = defineCommand({
  name: "dns:query",
  description: "Ask a DNS server one question and print the answer (default server: the first dns.listen address)",
  args: {
    name: { type: "positional", description: "Name to look up", required: true },
    type: { type: "positional", description: "Record type (default A)", required: false },
    server: { type: "string", description: "HOST:PORT of the server to ask" },
    tcp: { type: "boolean", description: "Use TCP" },
    timeout: { type: "string", description: "Milliseconds to wait (default 3000)" },
  },
  async run({ app, args }) {
    const type = typeNumber(args.type ?? "A");
    if (type === undefined) throw new UsageError(`unknown record type "${args.type}"`, "use A, AAAA, MX, TXT, … or TYPEnnn");
    const serverText = args.server ?? (dnsOptions(app).listen[0] ?? "127.0.0.1:53").replace(/^0\.0\.0\.0:/, "127.0.0.1:").replace(/^\[::\]:/, "[::1]:");
    let server: Upstream;
    try {
      server = parseUpstream(serverText);
    } catch (e) {
      throw new UsageError(`--server: ${(e as Error).message}`);
    }
    const timeoutMs = args.timeout ? Number(args.timeout) : 3000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError(`--timeout must be a whole number of milliseconds ≥ 1, got '${args.timeout}'`);
    const name = args.name.replace(/\.$/, "");
    const q: Question = { name, type, class: CLASS.IN };
    const bytes = encodeMessage({ id: (Math.random() * 0x10000) | 0, flags: FLAG.RD, rcode: 0, question: q, answers: [], authorities: [], additionals: [], edns: { udpSize: 1232, version: 0, dnssecOk: false } }).bytes;
    const started = performance.now();
    let m = args.tcp ? await queryTcp(server, bytes, q, timeoutMs).catch((e) => { throw new SecurelyError(e.message); }) : await queryUdp(server, bytes, q, timeoutMs);
    let proto = args.tcp ? "tcp" : "udp";
    if (!args.tcp && m.flags & FLAG.TC) {
      m = await queryTcp(server, bytes, q, timeoutMs).catch((e) => { throw new SecurelyError(e.message); });
      proto = "tcp (after TC)";
    }
    const out = {
      server: serverText, proto, ms: Math.round((performance.now() - started) * 100) / 100,
      rcode: rcodeName(m.rcode), flags: flagsText(m),
      answer: m.answers.map(rrText), authority: m.authorities.map(rrText), additional: m.additionals.map(rrText),
    };
    app.print(out, (o) => {
      const sect = (title: string, rows: any[]) => (rows.length ? [`;; ${title}`, ...rows.map((r) => `${r.name}\t${r.ttl}\tIN\t${r.type}\t${r.data}`), ""] : []);
      return [
        `;; ${absolute(name)} ${typeName(type)}: ${o.rcode}, flags: ${o.flags}`,
        "",
        ...sect("ANSWER", o.answer), ...sect("AUTHORITY", o.authority), ...sect("ADDITIONAL", o.additional),
        `;; server ${o.server} over ${o.proto}, ${o.ms} ms`,
      ].join("\n");
    });
    return 0;
  },
});
