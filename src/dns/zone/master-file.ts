/**
 * RFC 1035 §5 master files: $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE, relative names, `@`, owner
 * inheritance from the previous line, parentheses spanning lines, `;` comments, quoted strings,
 * class and TTL in either order, and RFC 3597 `TYPEnnn \# len hex` for unknown types.
 * Errors name the file and line.
 */
import { readFileSync } from "node:fs";
import { SecurelyError } from "../../core/errors.ts";
import { dirname, isAbsolute, join } from "node:path";
import { CLASS, typeName, typeNumber } from "../wire/constants.ts";
import { canonical, nameError, resolveName } from "../wire/names.ts";
import { formatRdata, parseRdata, parseTtl, tokenize } from "../wire/rdata-text.ts";
import type { Rr } from "../wire/types.ts";

export class ZoneFileError extends SecurelyError {
  constructor(readonly where: string, message: string) {
    super(`${where}: ${message}`, { code: "DNS_ZONE_FILE" });
    this.name = "ZoneFileError";
  }
}

export interface ParseOptions {
  /** Initial $ORIGIN (canonical or absolute). */
  origin: string;
  /** File name for messages and for resolving $INCLUDE; omit for inline text. */
  file?: string;
  /** Label used in messages when there is no file (e.g. "dns.zones.example.com.records"). */
  label?: string;
  /** TTL when neither the record nor $TTL gives one. */
  defaultTtl?: number;
  /** Read an $INCLUDE'd file (tests inject; default reads the disk). */
  readFile?: (path: string) => string;
}

interface Line {
  text: string;
  line: number;
  /** Began with blank space: the owner is the previous record's. */
  inheritsOwner: boolean;
}

/** Join parenthesised continuations and drop comments, keeping quoted text intact. */
function logicalLines(text: string, where: (line: number) => string): Line[] {
  const out: Line[] = [];
  let cur = "", start = 1, line = 1, depth = 0, quoted = false, inherits = false, fresh = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (fresh) {
      inherits = c === " " || c === "\t";
      start = line;
      fresh = false;
    }
    if (quoted) {
      if (c === "\\" && i + 1 < text.length) { cur += c + text[++i]; continue; }
      if (c === '"') quoted = false;
      if (c === "\n") line++;
      cur += c;
      continue;
    }
    if (c === "\\" && i + 1 < text.length && text[i + 1] !== "\n") { cur += c + text[++i]; continue; }
    if (c === '"') { quoted = true; cur += c; continue; }
    if (c === ";") { while (i + 1 < text.length && text[i + 1] !== "\n") i++; continue; }
    if (c === "(") { depth++; cur += " "; continue; }
    if (c === ")") {
      if (depth === 0) throw new ZoneFileError(where(line), "')' without a matching '('");
      depth--;
      cur += " ";
      continue;
    }
    if (c === "\n") {
      line++;
      if (depth > 0) { cur += " "; continue; }
      if (cur.trim()) out.push({ text: cur, line: start, inheritsOwner: inherits });
      cur = "";
      fresh = true;
      continue;
    }
    cur += c === "\r" ? "" : c;
  }
  if (quoted) throw new ZoneFileError(where(start), "unterminated quoted string");
  if (depth > 0) throw new ZoneFileError(where(start), "'(' is never closed");
  if (cur.trim()) out.push({ text: cur, line: start, inheritsOwner: inherits });
  return out;
}

const CLASSES: Record<string, number> = { IN: CLASS.IN, CH: CLASS.CH, CS: 2, HS: 4 };

/** Parse master-file text into records (names canonical-cased as written, no trailing dot). */
export function parseMasterFile(text: string, opts: ParseOptions, depth = 0): Rr[] {
  const label = opts.file ?? opts.label ?? "zone text";
  const where = (line: number) => `${label}:${line}`;
  const read = opts.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  let origin = canonical(opts.origin);
  let dollarTtl: number | undefined;
  let lastTtl: number | undefined;
  let lastOwner: string | undefined;
  const out: Rr[] = [];
  for (const l of logicalLines(text, where)) {
    let tokens;
    try {
      tokens = tokenize(l.text);
    } catch (e) {
      throw new ZoneFileError(where(l.line), (e as Error).message);
    }
    if (tokens.length === 0) continue;
    const fail = (msg: string): never => {
      throw new ZoneFileError(where(l.line), msg);
    };
    const head = tokens[0]!.text;
    if (!l.inheritsOwner && head.startsWith("$")) {
      const d = head.toUpperCase();
      if (d === "$ORIGIN") {
        if (!tokens[1]) fail("$ORIGIN needs a name");
        origin = canonical(resolveName(tokens[1]!.text, origin));
      } else if (d === "$TTL") {
        dollarTtl = parseTtl(tokens[1]?.text ?? "");
        if (dollarTtl === undefined) fail(`$TTL needs a number of seconds, got "${tokens[1]?.text ?? ""}"`);
      } else if (d === "$INCLUDE") {
        if (!tokens[1]) fail("$INCLUDE needs a file name");
        if (depth >= 8) fail("$INCLUDE nested more than 8 deep");
        const base = opts.file ? dirname(opts.file) : process.cwd();
        const path = isAbsolute(tokens[1]!.text) ? tokens[1]!.text : join(base, tokens[1]!.text);
        let included: string;
        try {
          included = read(path);
        } catch (e) {
          fail(`cannot read $INCLUDE file ${path}: ${(e as Error).message}`);
        }
        const incOrigin = tokens[2] ? canonical(resolveName(tokens[2].text, origin)) : origin;
        out.push(...parseMasterFile(included!, { ...opts, file: path, origin: incOrigin, defaultTtl: dollarTtl ?? opts.defaultTtl }, depth + 1));
      } else fail(`unsupported directive ${head} (securely reads $ORIGIN, $TTL and $INCLUDE)`);
      continue;
    }
    let owner: string;
    if (l.inheritsOwner) {
      if (lastOwner === undefined) fail("the first record has no owner name");
      owner = lastOwner!;
    } else {
      owner = resolveName(tokens.shift()!.text, origin);
      const err = nameError(owner);
      if (err) fail(`owner name "${owner}" ${err}`);
    }
    lastOwner = owner;
    let ttl: number | undefined;
    let klass: number = CLASS.IN;
    for (let i = 0; i < 2 && tokens.length; i++) {
      const t = tokens[0]!.text;
      const up = t.toUpperCase();
      if (ttl === undefined && /^\d/.test(t) && parseTtl(t) !== undefined) ttl = parseTtl(t);
      else if (up in CLASSES) klass = CLASSES[up]!;
      else if (/^CLASS\d+$/.test(up)) klass = Number(up.slice(5));
      else break;
      tokens.shift();
    }
    const typeTok = tokens.shift();
    if (!typeTok) fail(`record for ${owner} has no type`);
    const type = typeNumber(typeTok!.text);
    if (type === undefined) fail(`unknown record type "${typeTok!.text}" (write unknown types as TYPE1234 \\# LEN HEX)`);
    if (klass !== CLASS.IN) fail(`class ${klass} is not served (only IN)`);
    let data;
    try {
      data = parseRdata(type!, tokens, origin);
    } catch (e) {
      fail(`${typeName(type!)} ${owner}: ${(e as Error).message}`);
    }
    if (ttl !== undefined) lastTtl = ttl;
    const effective = ttl ?? dollarTtl ?? lastTtl ?? opts.defaultTtl ?? 3600;
    out.push({ name: owner, type: type!, class: CLASS.IN, ttl: effective, data });
  }
  return out;
}

/** One record as a master-file line (absolute names). */
export function formatRecord(rr: Rr): string {
  return `${rr.name === "" ? "." : rr.name + "."}\t${rr.ttl}\tIN\t${typeName(rr.type)}\t${formatRdata(rr.type, rr.data)}`;
}

/** A whole zone as master-file text: $ORIGIN, SOA first. */
export function formatZone(origin: string, records: Rr[]): string {
  const lines = [`$ORIGIN ${origin === "" ? "." : origin + "."}`];
  for (const rr of records) lines.push(formatRecord(rr));
  return lines.join("\n") + "\n";
}
