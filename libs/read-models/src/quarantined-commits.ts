import type Database from 'better-sqlite3';

/** A commit the read models refused: never applied, recorded with the job its subject names and why. */
export interface QuarantinedCommit {
  position: number;
  jobId: string;
  reason: string;
}

/** What an operator sees of the quarantined commits: how many, and the last one. */
export interface QuarantineSummary {
  count: number;
  last: QuarantinedCommit | null;
}

/** The `quarantined_commits` table: written in the transaction of the batch that refused them. */
export class QuarantinedCommits {
  private readonly statements;

  constructor(connection: Database.Database) {
    this.statements = {
      record: connection.prepare<[number, string, string]>('INSERT INTO quarantined_commits (position, job_id, reason) VALUES (?, ?, ?)'),
      count: connection.prepare<[], number>('SELECT count(*) FROM quarantined_commits').pluck(),
      last: connection.prepare<[], QuarantinedCommit>(
        'SELECT position, job_id AS jobId, reason FROM quarantined_commits ORDER BY position DESC LIMIT 1',
      ),
    };
  }

  record({ position, jobId, reason }: QuarantinedCommit): void {
    this.statements.record.run(position, jobId, reason);
  }

  summary(): QuarantineSummary {
    return { count: this.statements.count.get()!, last: this.statements.last.get() ?? null };
  }
}
