/** A trust plan: the commands that add (or remove) the CA in one machine's trust stores. */

export type Platform = "linux" | "macos" | "windows";

export interface TrustStep {
  /** What the step does, for people ("add to the system store (Debian/Ubuntu)"). */
  description: string;
  /** argv, without sudo. */
  command: string[];
  /** Needs root (prefixed with sudo unless already root). */
  root: boolean;
}

export interface TrustPlan {
  platform: Platform;
  /** The system store layout chosen, e.g. "debian". */
  store: string;
  steps: TrustStep[];
  /** Things securely cannot do itself (Node's own CA list, missing tools). */
  notes: string[];
}

/** What a plan is built from; tests pass fakes for the file system and PATH. */
export interface TrustContext {
  caPath: string;
  /** Short unique name for files and NSS nicknames: "securely-<16 hex of the fingerprint>". */
  name: string;
  /** CA serial (hex): how Windows certutil finds it again. */
  serial: string;
  home: string;
  exists(path: string): boolean;
  /** Folders inside `dir` (for Firefox profiles). */
  list(dir: string): string[];
  which(cmd: string): boolean;
}
