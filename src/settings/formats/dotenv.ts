/**
 * .env files as Laravel (vlucas/phpdotenv) and docker read them: `KEY=value`, optional `export `,
 * `#` comments, single quotes literal, double quotes with \n \t \" \\ \$ escapes and multi-line
 * values. Errors name the line but never echo it (it may hold a secret).
 */
import { SettingsError } from "../errors.ts";

export function parseDotenv(text: string, file: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("export ")) line = line.slice(7).trimStart();
    const eq = line.indexOf("=");
    if (eq <= 0) throw bad(file, lineNo, "expected KEY=VALUE");
    const key = line.slice(0, eq).trim();
    let rest = line.slice(eq + 1).trimStart();
    let value: string;
    if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) throw bad(file, lineNo, "unterminated single quote");
      value = rest.slice(1, end);
      checkTrailing(rest.slice(end + 1), file, lineNo);
    } else if (rest.startsWith('"')) {
      // a double-quoted value may continue over the following lines until its closing quote
      let body = rest.slice(1);
      let end = closingQuote(body);
      while (end < 0 && i + 1 < lines.length) {
        body += "\n" + lines[++i]!;
        end = closingQuote(body);
      }
      if (end < 0) throw bad(file, lineNo, "unterminated double quote");
      value = unescape(body.slice(0, end));
      checkTrailing(body.slice(end + 1), file, i + 1);
    } else {
      const hash = rest.search(/\s#/);
      value = (hash >= 0 ? rest.slice(0, hash) : rest).trim();
    }
    out.push([key, value]);
  }
  return out;
}

function closingQuote(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/gs, (_, c: string) => ({ n: "\n", r: "\r", t: "\t" })[c as "n"] ?? c);
}

function checkTrailing(rest: string, file: string, line: number): void {
  const t = rest.trim();
  if (t !== "" && !t.startsWith("#")) throw bad(file, line, "unexpected text after the closing quote");
}

function bad(file: string, line: number, what: string): SettingsError {
  return new SettingsError(`${file}:${line}: ${what}`, "SETTINGS_IMPORT_SYNTAX", undefined, 1);
}

/** One KEY=value line that parseDotenv (and phpdotenv) read back as exactly `value`. */
export function formatDotenvLine(name: string, value: string): string {
  if (/^[A-Za-z0-9_./:@,+-]*$/.test(value) && value !== "") return `${name}=${value}`;
  // single quotes are literal in phpdotenv: no ${VAR} expansion, no escapes
  if (!value.includes("'") && !value.includes("\n")) return `${name}='${value}'`;
  const escaped = value.replace(/[\\"$]/g, "\\$&").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  return `${name}="${escaped}"`;
}
