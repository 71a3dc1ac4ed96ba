/**
 * The change feed: one monotonic sequence per topic ("dns.records", "settings"). A writer bumps
 * the topic inside its transaction; a long-running service polls `seq(topic)` (one indexed read)
 * or `watch`es it, and reloads what changed — across processes, without a restart.
 */
import type { Database, Statement } from "bun:sqlite";

export class ChangeFeed {
  private bumpStmt: Statement;
  private seqStmt: Statement;
  private dataVersion: Statement;

  constructor(private db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS core_changes (topic TEXT PRIMARY KEY, seq INTEGER NOT NULL, changed_at INTEGER NOT NULL)`);
    this.bumpStmt = db.prepare(
      `INSERT INTO core_changes (topic, seq, changed_at) VALUES (?1, 1, ?2)
       ON CONFLICT(topic) DO UPDATE SET seq = seq + 1, changed_at = ?2 RETURNING seq`,
    );
    this.seqStmt = db.prepare(`SELECT seq FROM core_changes WHERE topic = ?1`);
    this.dataVersion = db.prepare("PRAGMA data_version");
  }

  /** Record a change to `topic`; call inside the writing transaction. Returns the new sequence. */
  bump(topic: string): number {
    return (this.bumpStmt.get(topic, Date.now()) as { seq: number }).seq;
  }

  seq(topic: string): number {
    return (this.seqStmt.get(topic) as { seq: number } | null)?.seq ?? 0;
  }

  /**
   * Call `onChange(seq)` whenever topic's sequence moves. `PRAGMA data_version` changes only when
   * another connection committed, so an idle poll costs one pragma, not a query.
   */
  watch(topic: string, onChange: (seq: number) => void, intervalMs = 250): () => void {
    let last = this.seq(topic);
    let lastVersion = this.version();
    const timer = setInterval(() => {
      try {
        const v = this.version();
        if (v === lastVersion) {
          const s = this.seq(topic); // same-connection writes do not move data_version
          if (s === last) return;
        }
        lastVersion = v;
        const s = this.seq(topic);
        if (s !== last) {
          last = s;
          onChange(s);
        }
      } catch {
        // store closed while polling: the owner is shutting down
      }
    }, intervalMs);
    (timer as any).unref?.();
    return () => clearInterval(timer);
  }

  private version(): number {
    return (this.dataVersion.get() as { data_version: number }).data_version;
  }
}
