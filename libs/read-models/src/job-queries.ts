import Database from 'better-sqlite3';
import {
  JOB_STATUS_LABELS,
  JOB_STATUSES,
  REJECTS_CSV_HEADER,
  rejectCsvRow,
  type JobError,
  type JobListPage,
  type JobStatus,
  type JobSummary,
  type LogEntry,
  type LogPage,
  type QueryBody,
  type RejectPage,
  type StatusCounts,
} from '#contracts';
import { jobProgress, type JobState } from '#domain';
import type { ReadModelDatabase } from './read-model-database.js';
import { NOTABLE_LEVELS } from './read-model-schema.js';

/**
 * Up to this many matches, a label search reads and counts them from the trigram index; beyond,
 * it walks the jobs in page order (a page of them comes soon) and scans every label to count.
 */
const FEW_LABELS = 20_000;

/** The CSV export yields about this many characters at a time. */
const CSV_CHUNK_LENGTH = 64 * 1024;

/** A job's summary, all from its state: the statuses' labels and the domain's progress. */
export function jobSummary(state: JobState): JobSummary {
  const status = state.status!;
  return {
    jobId: state.jobId,
    label: state.label!,
    kind: state.kind!,
    status,
    statusLabel: JOB_STATUS_LABELS[status],
    createdAt: state.createdAt!,
    createdBy: state.createdBy!,
    startedAt: state.startedAt,
    endedAt: state.endedAt,
    updatedAt: state.updatedAt!,
    processed: state.processed,
    total: state.total,
    rejected: state.rejected,
    progress: jobProgress(state),
    warning: state.warning,
    lastError: state.lastError,
    // A state stored before executors claimed jobs has no executor.
    executor: state.executor ?? null,
    leaseMs: state.leaseMs ?? null,
    version: state.version,
  };
}

/** line, ordinal, reason, record, at. */
type RejectRow = [number, number, string, string, string];

/** The queries of the job list, logs and rejects. Errors are returned as values. */
export class JobQueries {
  /** Prepared statements by SQL text: a query's shape depends on which filters it has, and there are few shapes. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly database: ReadModelDatabase) {}

  listJobs(body: QueryBody<'list'>): JobListPage | JobError {
    const after = body.cursor === undefined ? undefined : decodeListCursor(body.cursor, body);
    if (after && 'code' in after) return after;
    const sortColumn = body.sort === 'createdAt' ? 'created_at' : 'updated_at';
    const direction = body.order === 'asc' ? 'ASC' : 'DESC';
    const { filter, count } = this.jobFilter(body);
    const page = (status: JobStatus[] | undefined) => {
      const conditions = [...(status ? [statusCondition(status)] : []), ...filter.conditions];
      const params = [...(status ?? []), ...filter.params];
      if (after) {
        conditions.push(`(${sortColumn}, job_id) ${direction === 'ASC' ? '>' : '<'} (?, ?)`);
        params.push(after.sortKey, after.jobId);
      }
      // Only indexed columns: SQLite walks an index in order and stops after the page, instead of sorting every match.
      return this.statement(
        `SELECT id, ${sortColumn} AS sortKey, job_id AS jobId FROM jobs ${where(conditions)}
       ORDER BY ${sortColumn} ${direction}, job_id ${direction} LIMIT ?`,
      ).all(...params, body.limit + 1) as ListRow[];
    };
    // Several statuses: one index walk per status, then their pages merged. A single query over all
    // of them would read and sort every match, as no index is in sort order across statuses. Not
    // with a text: its matches are found, then sorted, either way, and each walk would find them again.
    const rows =
      body.status && body.status.length > 1 && !body.text
        ? mergePages(
            body.status.map((status) => page([status])),
            direction,
            body.limit + 1,
          )
        : page(body.status);
    const items = rows.slice(0, body.limit);
    // A first page that is not full holds every match: no need to count them.
    const total =
      !after && rows.length <= body.limit
        ? rows.length
        : typeof count === 'number'
          ? count
          : (this.statement(count.sql)
              .pluck()
              .get(...count.params) as number);
    return {
      items: this.summaries(items.map((row) => row.id)),
      total,
      nextCursor: rows.length > body.limit ? encodeListCursor(body, items.at(-1)!) : null,
    };
  }

  /** How many jobs of each status match a list's filters: one grouped count, from the kept counts when they hold it. */
  statusCounts(body: QueryBody<'status-counts'>): StatusCounts {
    const { filter, kept } = this.jobFilter(body);
    const counted = kept ? 'coalesce(sum(jobs), 0) FROM job_counts' : 'count(*) FROM jobs';
    const rows = this.statement(`SELECT status, ${counted} ${where(filter.conditions)} GROUP BY status`)
      .raw()
      .all(...filter.params) as [JobStatus, number][];
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const [status, jobs] of rows) counts[status] = jobs;
    return { counts };
  }

  /** The summaries of jobs by id, in that order: one statement, as a lookup per job costs more in calls than in reading. */
  private summaries(ids: number[]): JobSummary[] {
    if (ids.length === 0) return [];
    const states = this.statement('SELECT s.state FROM json_each(?) AS page JOIN job_states AS s ON s.id = page.value ORDER BY page.key')
      .pluck()
      .all(JSON.stringify(ids)) as string[];
    return states.map((state) => jobSummary(JSON.parse(state) as JobState));
  }

  getJob(jobId: string): JobSummary | null {
    const state = this.statement('SELECT state FROM job_states WHERE id = (SELECT id FROM jobs WHERE job_id = ?)').pluck().get(jobId) as
      | string
      | undefined;
    return state === undefined ? null : jobSummary(JSON.parse(state) as JobState);
  }

  /**
   * A page of a job's log entries, oldest first: those after `after`, or the `limit` entries just
   * before `before`, or the newest `limit` with `tail`. Each way walks the job's index in id order.
   */
  jobLogs(body: QueryBody<'logs'>): LogPage {
    const levels = body.level ?? [];
    let levelCondition = levels.length > 0 ? `AND level IN (${levels.map(() => '?').join(', ')})` : '';
    // Without info, the few warnings and errors are found through their own index.
    if (levels.length > 0 && !levels.includes('info')) levelCondition += ` AND ${NOTABLE_LEVELS}`;
    const read = (side: 'after' | 'before', id: number, limit: number) =>
      this.statement(
        `SELECT id, at, level, message, event_type AS eventType, event_id AS eventId FROM job_logs
         WHERE job_id = ? AND id ${side === 'after' ? '>' : '<'} ? ${levelCondition} ORDER BY id ${side === 'after' ? 'ASC' : 'DESC'} LIMIT ?`,
      ).all(body.jobId, id, ...levels, limit) as LogEntry[];
    if (body.before === undefined && !body.tail) {
      const rows = read('after', body.after ?? 0, body.limit + 1);
      const items = rows.slice(0, body.limit);
      const first = items[0];
      // Read from the start, nothing comes before.
      const older = first !== undefined && body.after !== undefined && read('before', first.id, 1).length > 0;
      return { items, nextCursor: rows.length > body.limit ? items.at(-1)!.id : null, olderCursor: older ? first.id : null };
    }
    // Ids are safe integers: every entry of the job is below this one.
    const rows = read('before', body.before ?? Number.MAX_SAFE_INTEGER, body.limit + 1);
    const items = rows.slice(0, body.limit).reverse();
    const last = items.at(-1);
    // The newest entries have none after them yet.
    const newer = last !== undefined && body.before !== undefined && read('after', last.id, 1).length > 0;
    return { items, nextCursor: newer ? last.id : null, olderCursor: rows.length > body.limit ? items[0]!.id : null };
  }

  /** A job's rejected records in line order (a line rejected twice, in the order of its rejects). */
  jobRejects(body: QueryBody<'rejects'>): RejectPage | JobError {
    // Lines and ordinals start at 1: the first page is the one after (0, 0).
    const after = body.cursor === undefined ? { line: 0, ordinal: 0 } : decodeRejectsCursor(body.cursor);
    if ('code' in after) return after;
    const rows = this.statement(
      `SELECT line, ordinal, reason, record, at FROM job_rejects
       WHERE job_id = ? AND (line, ordinal) > (?, ?) ORDER BY line, ordinal LIMIT ?`,
    )
      // Rows as arrays: better-sqlite3 makes an object per row at a cost larger than reading the row.
      .raw()
      .all(body.jobId, after.line, after.ordinal, body.limit + 1) as RejectRow[];
    // The job's count of rejected records is the number of its rows here: a count of its own, not a scan.
    const total = this.statement(
      "SELECT json_extract(state, '$.rejected') FROM job_states WHERE id = (SELECT id FROM jobs WHERE job_id = ?)",
    )
      .pluck()
      .get(body.jobId) as number | undefined;
    const page = rows.slice(0, body.limit);
    const last = page.at(-1)!;
    return {
      items: page.map(([line, , reason, record, at]) => ({ line, reason, record: JSON.parse(record) as unknown, at })),
      total: total ?? 0,
      nextCursor: rows.length > body.limit ? encodeCursor([last[0], last[1]]) : null,
    };
  }

  /**
   * A job's rejects as a CSV file (RFC 4180, header `line,reason,record,at`), in chunks. It reads
   * through its own connection, so commits keep being applied while a slow consumer exports, and the
   * rows stream from one snapshot of the file instead of being loaded at once.
   */
  *rejectsCsv(jobId: string): Generator<string, void, undefined> {
    const reader = new Database(this.database.file, { readonly: true, fileMustExist: true });
    try {
      const rows = reader
        .prepare<[string], [number, string, string, string]>(
          'SELECT line, reason, record, at FROM job_rejects WHERE job_id = ? ORDER BY line, ordinal',
        )
        .raw()
        .iterate(jobId);
      let chunk = REJECTS_CSV_HEADER;
      for (const [line, reason, record, at] of rows) {
        chunk += rejectCsvRow(line, reason, recordText(record), at);
        if (chunk.length >= CSV_CHUNK_LENGTH) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk.length > 0) yield chunk;
    } finally {
      reader.close();
    }
  }

  /**
   * SQL conditions on `jobs` for a list's filters but its statuses and cursor, and how to count the
   * matches, statuses included (or their count, when known).
   */
  private jobFilter(body: JobFilterBody): { filter: Filter; count: number | { sql: string; params: unknown[] }; kept: boolean } {
    const conditions: string[] = [];
    const params: unknown[] = [];
    // The statuses come first in a count's conditions, as in a page's.
    const withStatus = (filter: Filter): Filter =>
      body.status
        ? { conditions: [statusCondition(body.status), ...filter.conditions], params: [...body.status, ...filter.params] }
        : filter;
    if (body.kind) {
      conditions.push('kind = ?');
      params.push(body.kind);
    }
    if (!body.createdBy && !body.createdAfter && !body.createdBefore && !body.text) {
      // Status and kind alone: the kept counts hold the total (same columns, same conditions).
      const counted = withStatus({ conditions, params });
      return {
        filter: { conditions, params },
        count: { sql: `SELECT coalesce(sum(jobs), 0) FROM job_counts ${where(counted.conditions)}`, params: counted.params },
        kept: true,
      };
    }
    if (body.createdBy) {
      conditions.push('created_by = ?');
      params.push(body.createdBy);
    }
    if (body.createdAfter) {
      conditions.push('created_at >= ?');
      params.push(body.createdAfter);
    }
    if (body.createdBefore) {
      conditions.push('created_at < ?');
      params.push(body.createdBefore);
    }
    if (!body.text) return { filter: { conditions, params }, count: countJobs(withStatus({ conditions, params })), kept: false };

    const text = body.text.toLowerCase();
    const matches = this.labelsContaining(text);
    const [condition, param] =
      matches === null
        ? ['instr(label_folded, ?) > 0', text]
        : ['id IN (SELECT rowid FROM job_labels WHERE job_labels MATCH ?)', trigramPhrase(text)];
    const filter = { conditions: [...conditions, condition], params: [...params, param] };
    // The probe counted the matches already when the label is the only filter.
    return {
      filter,
      count: matches !== null && conditions.length === 0 && !body.status ? matches : countJobs(withStatus(filter)),
      kept: false,
    };
  }

  /**
   * How many labels contain `text`, by the trigram index, when they are at most FEW_LABELS; null
   * when they are more, or for a text under 3 characters, which has no trigram.
   */
  private labelsContaining(text: string): number | null {
    if ([...text].length < 3) return null;
    const probe = this.statement('SELECT count(*) FROM (SELECT rowid FROM job_labels WHERE job_labels MATCH ? LIMIT ?)').pluck();
    const matches = probe.get(trigramPhrase(text), FEW_LABELS + 1) as number;
    return matches <= FEW_LABELS ? matches : null;
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.database.connection.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** FTS5 query of one phrase: the text as a substring, whatever characters it holds. */
function trigramPhrase(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** What filters a list besides its page: its statuses, kind, creator, creation times and text. */
type JobFilterBody = Omit<QueryBody<'list'>, 'sort' | 'order' | 'limit' | 'cursor'>;

interface Filter {
  conditions: string[];
  params: unknown[];
}

interface ListRow {
  id: number;
  sortKey: string;
  jobId: string;
}

function statusCondition(statuses: JobStatus[]): string {
  return `status IN (${statuses.map(() => '?').join(', ')})`;
}

/**
 * The first `limit` rows of pages each in list order, in list order. Sort keys and job ids are
 * ASCII, so JavaScript compares them as SQLite does.
 */
function mergePages(pages: ListRow[][], direction: 'ASC' | 'DESC', limit: number): ListRow[] {
  const sign = direction === 'ASC' ? 1 : -1;
  const order = (a: ListRow, b: ListRow) =>
    sign * (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0);
  return pages.flat().sort(order).slice(0, limit);
}

function where(conditions: string[]): string {
  return conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
}

/** Counts the jobs a filter matches, one by one. */
function countJobs({ conditions, params }: Filter): { sql: string; params: unknown[] } {
  return { sql: `SELECT count(*) FROM jobs ${where(conditions)}`, params };
}

/** A string record as it was; any other record as its JSON. */
function recordText(json: string): string {
  return json.startsWith('"') ? (JSON.parse(json) as string) : json;
}

/** Cursors are opaque to clients: base64url of a JSON array. */
function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A list cursor names its sort and order: it only continues a list sorted the same way. */
function encodeListCursor(body: QueryBody<'list'>, last: { sortKey: string; jobId: string }): string {
  return encodeCursor([body.sort, body.order, last.sortKey, last.jobId]);
}

function decodeListCursor(cursor: string, body: QueryBody<'list'>): { sortKey: string; jobId: string } | JobError {
  const values = decodeCursor(cursor);
  if (!Array.isArray(values) || values.length !== 4 || !values.every((value) => typeof value === 'string')) {
    return badCursor('it is not a cursor of the job list');
  }
  const [sort, order, sortKey, jobId] = values as string[];
  if (sort !== body.sort || order !== body.order) {
    return badCursor(`it continues a list sorted by ${sort} ${order}, not by ${body.sort} ${body.order}`);
  }
  return { sortKey: sortKey!, jobId: jobId! };
}

function decodeRejectsCursor(cursor: string): { line: number; ordinal: number } | JobError {
  const values = decodeCursor(cursor);
  if (!Array.isArray(values) || values.length !== 2 || !values.every((value) => Number.isSafeInteger(value))) {
    return badCursor('it is not a cursor of rejects');
  }
  const [line, ordinal] = values as number[];
  return { line: line!, ordinal: ordinal! };
}

function badCursor(why: string): JobError {
  return { code: 'VALIDATION_FAILED', message: `invalid cursor: ${why}`, issues: [{ path: 'cursor', message: why }] };
}
