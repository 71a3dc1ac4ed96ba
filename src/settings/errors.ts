/** Settings failures, one line each; they name keys and files but never a value. */
import { SecurelyError } from "../core/errors.ts";

export class SettingsError extends SecurelyError {
  constructor(message: string, code: string, hint?: string, exitCode = 1) {
    super(message, { code, hint, exitCode });
    this.name = "SettingsError";
  }

  static invalidName(name: string): SettingsError {
    return new SettingsError(
      `invalid setting name '${name}'`,
      "SETTINGS_INVALID_NAME",
      "use letters, digits and _ in dot-separated parts, each starting with a letter or _ (e.g. mail.smtp.host or DB_PASSWORD)",
      2,
    );
  }

  static invalidEnv(name: string): SettingsError {
    return new SettingsError(`invalid environment name '${name}'`, "SETTINGS_INVALID_ENV", "use letters, digits, _ and - (e.g. production)", 2);
  }

  /** `where`: "" for the base profile, else how the profile was searched. */
  static notSet(keys: string[], where = ""): SettingsError {
    const list = keys.map((k) => `'${k}'`).join(", ");
    return new SettingsError(`setting${keys.length > 1 ? "s" : ""} ${list} ${keys.length > 1 ? "are" : "is"} not set${where}`, "SETTINGS_NOT_SET", "see securely settings:list");
  }

  static tooLarge(key: string, bytes: number, max: number): SettingsError {
    return new SettingsError(`value of '${key}' is ${bytes} bytes, more than the ${max} allowed`, "SETTINGS_TOO_LARGE", "store large files elsewhere and keep their path as the setting", 2);
  }

  static undecryptable(key: string, env: string, why: string): SettingsError {
    return new SettingsError(`cannot decrypt secret '${key}'${env ? ` (environment '${env}')` : ""}: ${why}`, "SETTINGS_UNDECRYPTABLE", "is SECURELY_KEY / the key file the one it was set with? add the old key to SECURELY_PREVIOUS_KEYS");
  }
}
