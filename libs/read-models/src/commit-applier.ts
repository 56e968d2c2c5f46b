import type Database from 'better-sqlite3';
import type { EncodedJobEventCommit, JobKind, JobStatus, LogLevel, UnpositionedJobEvent } from '#contracts';
import { checkCommit, evolve, initialJobState, type JobState } from '#domain';
import { logLine, type LogLine, type ShownJobState } from './job-log-lines.js';
import type { QuarantinedCommit, QuarantinedCommits } from './quarantined-commits.js';
import { RowInserter } from './row-inserter.js';

/**
 * Log entry ids are `position * LOG_IDS_PER_COMMIT + n`, n counting the entries of one commit:
 * they increase with the event stream and come out the same when the read models are rebuilt, so
 * a client's `after` stays valid across a rebuild. A commit holds at most a few events (a crossing
 * `reject` makes two), each writing at most one entry.
 */
export const LOG_IDS_PER_COMMIT = 1000;

export interface AppliedBatch {
  /** Position of the last commit applied or quarantined. */
  checkpoint: number;
  /** Jobs the batch created. */
  newJobs: number;
  /** Events applied. */
  events: number;
  /** The commits of the batch that were refused, in position order. */
  quarantined: QuarantinedCommit[];
}

/**
 * Writes commits into the read-model tables: each job's state evolved by its events, its row, label
 * and counts, its log entries and rejects, and the checkpoint, a batch in one transaction. Each commit
 * is checked against its job's state first (`checkCommit`): one that fails is quarantined, never
 * applied, and the checkpoint moves past it all the same, so a bad message never stops the read side.
 */
export class CommitApplier {
  private readonly statements;
  private readonly applyBatch: (commits: readonly EncodedJobEventCommit[], indexLabels: boolean) => AppliedBatch;

  constructor(
    connection: Database.Database,
    private readonly quarantine: QuarantinedCommits,
  ) {
    this.statements = {
      readCheckpoint: connection.prepare<[], { position: number }>('SELECT position FROM checkpoint WHERE id = 1'),
      writeCheckpoint: connection.prepare<[number]>('UPDATE checkpoint SET position = ? WHERE id = 1'),
      readState: connection
        .prepare<[string], string>('SELECT state FROM job_states WHERE id = (SELECT id FROM jobs WHERE job_id = ?)')
        .pluck(),
      writeJob: connection
        .prepare<[string, JobStatus, string, string, string, string, string], number>(
          `INSERT INTO jobs (job_id, status, kind, created_by, created_at, updated_at, label_folded)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (job_id) DO UPDATE SET
             status = excluded.status, kind = excluded.kind, created_by = excluded.created_by,
             created_at = excluded.created_at, updated_at = excluded.updated_at, label_folded = excluded.label_folded
           RETURNING id`,
        )
        .pluck(),
      writeState: connection.prepare<[number, string]>('INSERT OR REPLACE INTO job_states (id, state) VALUES (?, ?)'),
      writeLabel: connection.prepare<[number, string]>('INSERT OR REPLACE INTO job_labels (rowid, label) VALUES (?, ?)'),
      addToCount: connection.prepare<[JobStatus, JobKind, number]>(
        'INSERT INTO job_counts (status, kind, jobs) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET jobs = jobs + excluded.jobs',
      ),
      writeLog: new RowInserter<[number, string, string, LogLevel, string, string, string]>(connection, 'job_logs', [
        'id',
        'job_id',
        'at',
        'level',
        'message',
        'event_type',
        'event_id',
      ]),
      writeReject: new RowInserter<[string, number, number, string, string, string]>(connection, 'job_rejects', [
        'job_id',
        'line',
        'ordinal',
        'reason',
        'record',
        'at',
      ]),
    };
    this.applyBatch = connection.transaction((commits: readonly EncodedJobEventCommit[], indexLabels: boolean) => {
      try {
        return this.applyInTransaction(commits, indexLabels);
      } catch (error) {
        this.statements.writeLog.discard();
        this.statements.writeReject.discard();
        throw error;
      }
    });
  }

  /** Position of the last commit applied (0 for an empty read model). */
  checkpoint(): number {
    return this.statements.readCheckpoint.get()!.position;
  }

  /**
   * Applies a batch (see `ReadModelDatabase.applyCommits`). Without `indexLabels` the labels are
   * left for a bulk load to index at once when it ends.
   */
  apply(commits: readonly EncodedJobEventCommit[], { indexLabels }: { indexLabels: boolean }): AppliedBatch {
    return this.applyBatch(commits, indexLabels);
  }

  private applyInTransaction(commits: readonly EncodedJobEventCommit[], indexLabels: boolean): AppliedBatch {
    const { writeCheckpoint, writeJob, writeState, writeLabel, addToCount, writeLog, writeReject } = this.statements;
    const applied = this.checkpoint();
    let checkpoint = applied;
    // A job's rows are written once per batch, however many of its commits the batch holds: each
    // job a commit of the batch changed, as it is after the batch.
    const states = new Map<string, JobState>();
    /** Each job as the file has it (status null: no row yet). */
    const stored = new Map<string, JobState>();
    let newJobs = 0;
    let events = 0;
    const quarantined: QuarantinedCommit[] = [];
    for (const commit of commits) {
      if (commit.position <= checkpoint) continue;
      checkpoint = commit.position;
      let before = states.get(commit.jobId);
      if (!before) {
        before = stored.get(commit.jobId) ?? this.readState(commit.jobId);
        stored.set(commit.jobId, before);
      }
      const checked = checkCommit(before, commit);
      if (!checked.ok) {
        const refused = { position: commit.position, jobId: commit.jobId, reason: checked.reason };
        this.quarantine.record(refused);
        quarantined.push(refused);
        continue;
      }
      // Each log line words the state right after its event (the check's end state serves a commit of
      // one), and a checked event is on a job that exists: its state has a status.
      let state = before;
      let logIndex = 0;
      for (const event of checked.events) {
        state = checked.events.length === 1 ? checked.state : evolve(state, event);
        const line = logLine(event, state as ShownJobState);
        if (line) this.writeLog(event, line, commit.position * LOG_IDS_PER_COMMIT + logIndex++);
        if (event.type === 'RecordsRejected') this.writeRejects(event);
      }
      events += checked.events.length;
      states.set(commit.jobId, checked.state);
    }
    // Labels go last: FTS5 writes its pending terms to disk at every statement savepoint (each
    // upsert opens one), so interleaved with the jobs' rows each label cost a tiny index segment.
    const labels: [number, string][] = [];
    const counts = new JobCountChanges();
    for (const state of states.values()) {
      const label = state.label!.toLowerCase();
      const id = writeJob.get(state.jobId, state.status!, state.kind!, state.createdBy!, state.createdAt!, state.updatedAt!, label)!;
      // The read models show no checkpoint (a history replays it from the events), and the job list
      // parses the states of a page: a checkpoint of many kilobytes stays out of the stored state.
      writeState.run(id, JSON.stringify({ ...state, checkpoint: null }));
      const before = stored.get(state.jobId)!;
      if (before.status === null) newJobs++;
      else counts.add(before.status, before.kind!, -1);
      counts.add(state.status!, state.kind!, 1);
      if (before.label !== state.label) labels.push([id, label]);
    }
    if (indexLabels) for (const [id, label] of labels) writeLabel.run(id, label);
    for (const [status, kind, change] of counts.changes()) addToCount.run(status, kind, change);
    writeLog.flush();
    writeReject.flush();
    if (checkpoint !== applied) writeCheckpoint.run(checkpoint);
    return { checkpoint, newJobs, events, quarantined };
  }

  private readState(jobId: string): JobState {
    const stored = this.statements.readState.get(jobId);
    return stored === undefined ? initialJobState(jobId) : (JSON.parse(stored) as JobState);
  }

  private writeLog(event: UnpositionedJobEvent, line: LogLine, id: number): void {
    this.statements.writeLog.add(id, event.jobId, event.at, line.level, line.message, event.type, event.eventId);
  }

  private writeRejects(event: UnpositionedJobEvent<'RecordsRejected'>): void {
    const { records, rejectedTotal } = event.data;
    const firstOrdinal = rejectedTotal - records.length + 1;
    records.forEach((rejected, index) => {
      this.statements.writeReject.add(
        event.jobId,
        rejected.line,
        firstOrdinal + index,
        rejected.reason,
        JSON.stringify(rejected.record),
        event.at,
      );
    });
  }
}

/** A batch's changes to the job counts, by status and kind. */
class JobCountChanges {
  private readonly byKey = new Map<string, [JobStatus, JobKind, number]>();

  add(status: JobStatus, kind: JobKind, change: number): void {
    const key = `${status} ${kind}`;
    const entry = this.byKey.get(key);
    if (entry) entry[2] += change;
    else this.byKey.set(key, [status, kind, change]);
  }

  /** The counts that change, by how much. */
  changes(): [JobStatus, JobKind, number][] {
    return [...this.byKey.values()].filter(([, , change]) => change !== 0);
  }
}
