/** Contracts of the settings namespace: what is stored, what changed, what hooks are. */

/** One stored setting as the repository returns it. */
export interface Setting {
  key: string;
  /** Plaintext, or undefined for a secret read without decrypting. */
  value: string | undefined;
  secret: boolean;
  /** The profile the value came from: "" is the base profile. */
  env: string;
  updated_at: number;
  updated_by: string;
}

/** One write asked for by settings:set / settings:import. */
export interface SettingInput {
  key: string;
  value: string;
  /** true: store encrypted; undefined: keep the key's current secrecy (new keys are plain). */
  secret?: boolean;
}

/** A key whose value (or secrecy) actually changed in a write. */
export interface Change {
  key: string;
  env: string;
  action: "set" | "unset" | "reencrypt";
  secret: boolean;
  old_hash: string | null;
  new_hash: string | null;
}

/** One row of settings:history. */
export interface HistoryEntry extends Change {
  id: number;
  changed_at: number;
  changed_by: string;
}

/** A `settings.hooks` entry as validated from the config. */
export interface HookConfig {
  match: string[];
  run?: string;
  reload: boolean;
  pid_file?: string;
  signal: "SIGHUP" | "SIGUSR1" | "SIGUSR2" | "SIGTERM";
  /** Seconds a `run` hook may take before it is killed. */
  timeout: number;
}

export interface HookResult {
  /** 1-based position in settings.hooks, as people count them. */
  hook: number;
  what: string;
  keys: string[];
  ok: boolean;
  exit_code?: number;
  error?: string;
}
