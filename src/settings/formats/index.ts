/** Settings file formats for settings:import and settings:export, chosen by name or extension. */
import { extname } from "node:path";
import { UsageError } from "../../core/errors.ts";
import { envVarName } from "../names.ts";
import { formatDotenvLine, parseDotenv } from "./dotenv.ts";
import { formatStructured, parseStructured } from "./structured.ts";

export type Format = "env" | "json" | "yaml";
export const FORMATS: Format[] = ["env", "json", "yaml"];

export function checkFormat(name: string | undefined): Format | undefined {
  if (name === undefined) return undefined;
  if (!FORMATS.includes(name as Format)) throw new UsageError(`unknown format '${name}'`, `use one of ${FORMATS.join(", ")}`);
  return name as Format;
}

/** .json → json, .yaml/.yml → yaml, anything else (.env, .env.production, stdin) → env. */
export function formatOfFile(file: string): Format {
  const ext = extname(file).toLowerCase();
  if (ext === ".json") return "json";
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  return "env";
}

export function parseSettingsFile(text: string, format: Format, file: string): Array<[string, string]> {
  return format === "env" ? parseDotenv(text, file) : parseStructured(text, format, file);
}

/** `env` uses the variable names settings:run sets (MAIL_SMTP_HOST); json/yaml keep the keys. */
export function formatSettings(entries: Array<[string, string]>, format: Format): string {
  if (format === "env") return entries.map(([k, v]) => formatDotenvLine(envVarName(k), v)).join("\n") + (entries.length ? "\n" : "");
  return formatStructured(entries, format);
}
