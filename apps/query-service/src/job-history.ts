import type { NatsConnection } from '@nats-io/nats-core';
import { LRUCache } from 'lru-cache';
import { errorReply, type ErrorReply, type HistoryReply, type JobEvent, type JobSnapshot, type QueryBody } from '#contracts';
import { checkCommit, initialJobState, replayJob, type JobState } from '#domain';
import { reaches, type EventStore } from '#event-store';
import { jobSummary } from '#read-models';
import { decodeHistoryCursor, encodeHistoryCursor, invalidHistoryCursor, pageLength, type HistoryCursor } from './history-page.js';

/** How many states of jobs stay in memory for the pages after the first. */
const MAX_CACHED_STATES = 1_000;

/** A page lists at most this many of the commits that failed their check: their reasons count towards the reply's size. */
const MAX_QUARANTINED_LISTED = 100;

/** A commit that failed its check: left out of the events and the state. */
type QuarantinedCommit = HistoryReply['quarantined'][number];

/** A commit that passed its check, with the job's state before and after it. */
interface CheckedCommit {
  position: number;
  before: JobState;
  after: JobState;
  events: JobEvent[];
}

/**
 * `history`: a job's events and its state, read from the event store itself, not from a read model:
 * what auditors replay is the record. Commits that fail their check (`checkCommit`) are left out, as
 * everywhere. A history read page by page is read at one version (the first page's atVersion, atTime
 * or the job's version then), so every page has the same state; a page after the first reads only
 * its own commits, from where the last one ended, checked from the state cached there.
 */
export class JobHistory {
  /** The state a history answers with, by `<jobId>@<version>`: a version's state never changes. */
  private readonly answers = new LRUCache<string, { state: JobSnapshot | null }>({ max: MAX_CACHED_STATES });
  /** The job's state before the commits a next page reads, by `<jobId>@<its cursor's position>`. */
  private readonly resumes = new LRUCache<string, JobState>({ max: MAX_CACHED_STATES });

  constructor(
    private readonly store: EventStore,
    /** Whose server's max_payload bounds a reply. */
    private readonly connection: NatsConnection,
  ) {}

  page(body: QueryBody<'history'>): Promise<HistoryReply | ErrorReply> {
    return body.cursor === undefined ? this.firstPage(body) : this.nextPage(body, body.cursor);
  }

  private async firstPage({ jobId, atVersion, atTime, limit }: QueryBody<'history'>): Promise<HistoryReply | ErrorReply> {
    // Even at version 0 the first commit is read: it tells whether the job exists.
    const toVersion = atVersion === undefined ? Infinity : Math.max(atVersion, 1);
    const { commits, quarantined, state } = await this.readChecked(jobId, initialJobState(jobId), 0, toVersion);
    if (state.status === null) return errorReply({ code: 'JOB_NOT_FOUND', message: `job ${jobId} does not exist` });
    if (atVersion !== undefined && atVersion > state.version) {
      const message = `job ${jobId} has ${state.version} versions: atVersion goes from 0 to ${state.version}`;
      return errorReply({ code: 'VALIDATION_FAILED', message, issues: [{ path: 'atVersion', message }] });
    }
    let events = commits.flatMap((commit) => commit.events);
    if (atVersion !== undefined) events = events.filter((event) => event.version <= atVersion);
    if (atTime !== undefined) {
      // The job as it was at that time: its events up to the first one after it.
      const later = events.findIndex((event) => event.at > atTime);
      if (later !== -1) events = events.slice(0, later);
    }
    const asOf = events.at(-1)?.version ?? 0;
    const answer = this.answerAt(jobId, asOf, events);
    return this.reply(jobId, answer, { asOf, after: 0, position: 1 }, commits, quarantined, limit);
  }

  private async nextPage({ jobId, atVersion, limit }: QueryBody<'history'>, encoded: string): Promise<HistoryReply | ErrorReply> {
    const cursor = decodeHistoryCursor(encoded);
    if ('ok' in cursor) return cursor;
    if (cursor.asOf === null) return this.latestPage(jobId, atVersion, { ...cursor, asOf: null }, limit);
    if (atVersion !== undefined && atVersion !== cursor.asOf) {
      const message = `the cursor continues the history at version ${cursor.asOf}, not ${atVersion}: pass the same atVersion, or none`;
      return errorReply({ code: 'VALIDATION_FAILED', message, issues: [{ path: 'atVersion', message }] });
    }
    const answer = this.answers.get(`${jobId}@${cursor.asOf}`)?.state ?? (await this.stateAt(jobId, cursor.asOf));
    const resume = this.resumes.get(`${jobId}@${cursor.position}`) ?? (await this.stateBefore(jobId, cursor));
    const toVersion = Math.min(cursor.asOf, cursor.after + limit);
    const { commits, quarantined } = await this.readChecked(jobId, resume, cursor.position - 1, toVersion);
    // A cursor of another job, or made up: the page would not start where the last one ended.
    const first = commits.flatMap((commit) => commit.events).find((event) => event.version > cursor.after);
    if (first?.version !== cursor.after + 1) return invalidHistoryCursor();
    return this.reply(jobId, answer, { ...cursor, asOf: cursor.asOf }, commits, quarantined, limit);
  }

  /**
   * A `latestCursor`'s page: the events after the version it was made at, up to the job's version
   * now, read at that version (the state is the job's now); none when nothing happened since.
   */
  private async latestPage(
    jobId: string,
    atVersion: number | undefined,
    cursor: HistoryCursor & { asOf: null },
    limit: number,
  ): Promise<HistoryReply | ErrorReply> {
    if (atVersion !== undefined) {
      const message = 'a latestCursor reads on to the job as it is now: pass no atVersion with it';
      return errorReply({ code: 'VALIDATION_FAILED', message, issues: [{ path: 'atVersion', message }] });
    }
    const resume = this.resumes.get(`${jobId}@${cursor.position}`) ?? (await this.stateBefore(jobId, cursor));
    const { commits, quarantined, state } = await this.readChecked(jobId, resume, cursor.position - 1, Infinity);
    // A cursor of another job, or made up: the page would not start where the last one ended.
    const first = commits.flatMap((commit) => commit.events).find((event) => event.version > cursor.after);
    if (first ? first.version !== cursor.after + 1 : state.version !== cursor.after) return invalidHistoryCursor();
    const answer = this.snapshotAt(jobId, state);
    return this.reply(jobId, answer, { ...cursor, asOf: state.version }, commits, quarantined, limit);
  }

  /**
   * The page of `commits`' events after `cursor.after` up to `cursor.asOf`, the commits that failed
   * their check from where the page starts to where the next one does (the last page: to its last
   * event), and the cursor of the next page, with the state it resumes from cached. The last page
   * ends with a `latestCursor`, which reads on from there to the job's version when it is used.
   */
  private reply(
    jobId: string,
    state: JobSnapshot | null,
    cursor: HistoryCursor & { asOf: number },
    commits: readonly CheckedCommit[],
    refused: readonly QuarantinedCommit[],
    limit: number,
  ): HistoryReply {
    const { asOf, after } = cursor;
    const events = commits.flatMap((commit) => commit.events).filter((event) => event.version > after && event.version <= asOf);
    // What the reply holds besides its events, with a cursor as long as any.
    const longest = encodeHistoryCursor({
      asOf: Number.MAX_SAFE_INTEGER,
      after: Number.MAX_SAFE_INTEGER,
      position: Number.MAX_SAFE_INTEGER,
    });
    const listable = refused.filter((commit) => commit.position >= cursor.position).slice(0, MAX_QUARANTINED_LISTED);
    const envelope = Buffer.byteLength(
      JSON.stringify({ ok: true, events: [], state, nextCursor: longest, latestCursor: longest, quarantined: listable }),
    );
    const page = events.slice(0, pageLength(events, limit, (this.connection.info?.max_payload ?? Infinity) - envelope));
    const last = page.at(-1);
    if (last === undefined || last.version >= asOf) {
      // The history ends with the commit of its last version: what came after is not part of it.
      const quarantined = last === undefined ? [] : listable.filter((each) => each.position < last.position);
      return {
        ok: true,
        events: page,
        state,
        nextCursor: null,
        latestCursor: this.latestCursor(jobId, cursor, commits, last),
        quarantined,
      };
    }
    const next = { asOf, after: last.version, position: this.resumeAfter(jobId, commits, last) };
    const quarantined = listable.filter((each) => each.position < next.position);
    return { ok: true, events: page, state, nextCursor: encodeHistoryCursor(next), latestCursor: null, quarantined };
  }

  /**
   * Where a history goes on after its last page (read at a version or time inside a commit, within
   * that commit); where `cursor` went on when the page is empty.
   */
  private latestCursor(jobId: string, cursor: HistoryCursor, commits: readonly CheckedCommit[], last: JobEvent | undefined): string {
    if (last === undefined) return encodeHistoryCursor({ asOf: null, after: cursor.after, position: cursor.position });
    return encodeHistoryCursor({ asOf: null, after: last.version, position: this.resumeAfter(jobId, commits, last) });
  }

  /**
   * Where a page after `last` starts: within its commit, or after it when it is the commit's last
   * event; with the job's state there cached for that page.
   */
  private resumeAfter(jobId: string, commits: readonly CheckedCommit[], last: JobEvent): number {
    const commit = commits.find((each) => each.position === last.position)!;
    const ended = commit.events.at(-1)!.version === last.version;
    const position = ended ? commit.position + 1 : commit.position;
    this.resumes.set(`${jobId}@${position}`, ended ? commit.after : commit.before);
    return position;
  }

  /**
   * A job's commits after a position that pass their check, from the job's state there, until it
   * reaches `toVersion`, and those that fail it. The header `toVersion` stops at can lie: the read
   * goes on until the checked job reaches it, or no commit is left.
   */
  private async readChecked(
    jobId: string,
    from: JobState,
    afterPosition: number,
    toVersion: number,
  ): Promise<{ commits: CheckedCommit[]; quarantined: QuarantinedCommit[]; state: JobState }> {
    const commits: CheckedCommit[] = [];
    const quarantined: QuarantinedCommit[] = [];
    let state = from;
    for (let position = afterPosition; state.version < toVersion; ) {
      const read = await this.store.readJob(jobId, { afterPosition: position, toVersion });
      for (const commit of read) {
        const checked = checkCommit(state, commit);
        if (!checked.ok) {
          quarantined.push({ position: commit.position, reason: checked.reason });
          continue;
        }
        const events = checked.events.map((event) => ({ ...event, position: commit.position }));
        commits.push({ position: commit.position, before: state, after: checked.state, events });
        state = checked.state;
      }
      const last = read.at(-1);
      // Not stopped by a header that reached the version: the store read to the job's last commit.
      if (last === undefined || !reaches(last, toVersion)) break;
      position = last.position;
    }
    return { commits, quarantined, state };
  }

  /** The state a history read at `version` answers with, cached. */
  private answerAt(jobId: string, version: number, events: readonly JobEvent[]): JobSnapshot | null {
    return this.snapshotAt(jobId, replayJob(jobId, events), version);
  }

  /** The job's snapshot, cached as the answer at its version (or `version`, when read there). */
  private snapshotAt(jobId: string, job: JobState, version = job.version): JobSnapshot | null {
    const state =
      job.status === null
        ? null
        : { ...jobSummary(job), definition: job.definition, rejectPolicy: job.rejectPolicy, checkpoint: job.checkpoint };
    this.answers.set(`${jobId}@${version}`, { state });
    return state;
  }

  /** The state at a version no page of this instance was read at: replayed from the start. */
  private async stateAt(jobId: string, version: number): Promise<JobSnapshot | null> {
    const { commits } = await this.readChecked(jobId, initialJobState(jobId), 0, version);
    const events = commits.flatMap((commit) => commit.events).filter((event) => event.version <= version);
    return this.answerAt(jobId, version, events);
  }

  /** The state a page that this instance did not see end resumes from: the job before the cursor's position. */
  private async stateBefore(jobId: string, { after, position }: HistoryCursor): Promise<JobState> {
    const { commits } = await this.readChecked(jobId, initialJobState(jobId), 0, after);
    return commits.filter((commit) => commit.position < position).at(-1)?.after ?? initialJobState(jobId);
  }
}
