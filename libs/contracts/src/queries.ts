import { z } from 'zod';
import { jobIdSchema, oneOf, type RejectPolicy } from './commands.js';
import type { JobEvent } from './events.js';
import { JOB_KINDS, JOB_STATUSES, LOG_LEVELS, type JobKind, type JobStatus, type LogLevel } from './statuses.js';

const count = z.number().int().nonnegative();
const limit = (max: number, byDefault: number) => z.number().int().min(1).max(max).default(byDefault);
const cursor = z.string().min(1).max(1000);

/** One value or several; always an array of distinct values once parsed. */
const oneOrMany = <T extends string>(values: readonly [T, ...T[]], what: string) => {
  const one = oneOf(values, what);
  // A union alone says "Invalid input": say instead what is wrong in the form sent, one value or an array.
  const either = z.union([one, z.array(one).min(1).max(values.length)], {
    error: (issue) => (issue.code === 'invalid_union' ? issue.errors[Array.isArray(issue.input) ? 1 : 0]?.[0]?.message : undefined),
  });
  return either.transform((value) => [...new Set(Array.isArray(value) ? value : [value])]);
};

/** Any ISO-8601 time with a zone, as UTC with milliseconds once parsed: the form stored times have, so they compare as strings. */
const isoTime = z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString());

/** Most events on one page of a job's history, and how many a page holds unless asked for fewer. */
export const MAX_HISTORY_PAGE = 1_000;

/** The longest a query may wait for its `minPosition`, in milliseconds. */
export const MAX_QUERY_WAIT_MS = 60_000;

/** Fields every query may carry besides its own body. */
const queryMetaShape = {
  /** Wait until the read model has applied this global position (a command reply's `position`). */
  minPosition: count.optional(),
  /**
   * How long this query may wait for its `minPosition` before it answers TIMEOUT; the service's
   * JOBS_QUERY_WAIT_MS by default. Shorter than the client's own timeout, the client gets TIMEOUT
   * rather than no answer.
   */
  maxWaitMs: z.number().int().min(0).max(MAX_QUERY_WAIT_MS).optional(),
};

const jobRef = { ...queryMetaShape, jobId: jobIdSchema };

/** What a job list is filtered by, besides its statuses. */
const jobFilterShape = {
  kind: oneOf(JOB_KINDS, 'a job kind').optional(),
  createdBy: z.string().trim().min(1).max(200).optional(),
  /** Jobs created at or after this time. */
  createdAfter: isoTime.optional(),
  /** Jobs created before this time. */
  createdBefore: isoTime.optional(),
  /** Case-insensitive substring of the label. */
  text: z.string().trim().min(1).max(500).optional(),
};

/** Bodies of `jobs.query.<name>` requests, API version 1. Unknown fields are rejected; defaults are filled in. */
export const querySchemas = {
  list: z.strictObject({
    ...queryMetaShape,
    status: oneOrMany(JOB_STATUSES, 'a status').optional(),
    ...jobFilterShape,
    sort: oneOf(['createdAt', 'updatedAt'], 'a sort field').default('createdAt'),
    /** Newest first unless asked otherwise. */
    order: oneOf(['asc', 'desc'], 'an order').default('desc'),
    limit: limit(500, 50),
    /** `nextCursor` of the previous page, with the same sort and order. */
    cursor: cursor.optional(),
  }),
  /** How many jobs of each status a list with these filters holds. */
  'status-counts': z.strictObject({ ...queryMetaShape, ...jobFilterShape }),
  get: z.strictObject(jobRef),
  /** A page of a job's log, its entries always oldest first; where it starts is one of after, before and tail (none: the first entries). */
  logs: z
    .strictObject({
      ...jobRef,
      /** Entries with an id above this one: a page's `nextCursor`, or the id of the last entry read. */
      after: count.optional(),
      /** The `limit` entries just below this id: a page's `olderCursor`, to read further back. */
      before: count.optional(),
      /** The newest `limit` entries: a log read from its end. */
      tail: z.boolean().optional(),
      level: oneOrMany(LOG_LEVELS, 'a log level').optional(),
      limit: limit(1000, 100),
    })
    .refine((body) => [body.after !== undefined, body.before !== undefined, body.tail === true].filter(Boolean).length <= 1, {
      message: 'logs takes one of after, before and tail: after reads on from an entry, before reads back from one, tail reads the newest',
    }),
  rejects: z.strictObject({ ...jobRef, cursor: cursor.optional(), limit: limit(1000, 100) }),
  'rejects-export': z.strictObject(jobRef),
  history: z
    .strictObject({
      ...jobRef,
      atVersion: count.optional(),
      atTime: isoTime.optional(),
      limit: limit(MAX_HISTORY_PAGE, MAX_HISTORY_PAGE),
      /** `nextCursor` of the previous page, with the same atVersion or atTime. */
      cursor: cursor.optional(),
    })
    .refine((body) => body.atVersion === undefined || body.atTime === undefined, {
      message: 'history takes atVersion or atTime, not both',
    }),
} as const;

export type QueryName = keyof typeof querySchemas;
export const QUERY_NAMES = Object.keys(querySchemas) as QueryName[];
/** A query body as validated, with its defaults filled in. */
export type QueryBody<N extends QueryName = QueryName> = z.output<(typeof querySchemas)[N]>;
export type JobSort = QueryBody<'list'>['sort'];
export type SortOrder = QueryBody<'list'>['order'];

export function isQueryName(name: string): name is QueryName {
  return Object.hasOwn(querySchemas, name);
}

/** A job as the job list shows it. */
export interface JobSummary {
  jobId: string;
  label: string;
  kind: JobKind;
  status: JobStatus;
  statusLabel: string;
  createdAt: string;
  createdBy: string;
  /** First time the job started. */
  startedAt: string | null;
  /** Time it reached a final status. */
  endedAt: string | null;
  updatedAt: string;
  processed: number;
  total: number | null;
  rejected: number;
  /** Percent, or null while the total is unknown. */
  progress: number | null;
  /** Set by rejected records and by warning or error log lines. */
  warning: boolean;
  lastError: { message: string; code?: string } | null;
  /**
   * The executor running the job under its claim; null when none does. A running job with none waits
   * for an executor of its kind: none has claimed it yet, or none is running.
   */
  executor: string | null;
  /** The lease of that executor's claim, in milliseconds: how long the job stays its without a heartbeat. Null when none holds it. */
  leaseMs: number | null;
  /** Number of the job's events. */
  version: number;
}

/** A job as it was at some version: its summary and its definition. */
export interface JobSnapshot extends JobSummary {
  definition: Record<string, unknown>;
  rejectPolicy: RejectPolicy;
  /** The last checkpoint an executor reported, where a restarted run resumes; null when none. */
  checkpoint: unknown;
}

/** One line of a job's log. */
export interface LogEntry {
  /** Increases with every entry of the read model, and stays the same when it is rebuilt. */
  id: number;
  at: string;
  level: LogLevel;
  message: string;
  /** Type and id of the event that wrote the entry. */
  eventType: string;
  eventId: string;
}

/** One record a job rejected. */
export interface RejectEntry {
  line: number;
  reason: string;
  /** The record as the executor sent it. */
  record: unknown;
  at: string;
}

export interface JobListPage {
  items: JobSummary[];
  /** Jobs matching the filter, on every page. */
  total: number;
  nextCursor: string | null;
}

/** Log entries in id order, oldest first, whichever way the page was read; both cursors are null on an empty page. */
export interface LogPage {
  items: LogEntry[];
  /** The id to pass as `after` for the entries after this page (its last entry's); null when no entry follows yet. */
  nextCursor: number | null;
  /** The id to pass as `before` for the entries before this page (its first entry's); null when none comes before. */
  olderCursor: number | null;
}

export interface RejectPage {
  items: RejectEntry[];
  total: number;
  nextCursor: string | null;
}

export type ListReply = { ok: true } & JobListPage;
export type LogsReply = { ok: true } & LogPage;
export type RejectsReply = { ok: true } & RejectPage;

export interface GetReply {
  ok: true;
  job: JobSummary;
}

/** The CSV of a job's rejects (header `line,reason,record,at`), stored as an object of the NATS Object Store. */
export interface RejectsExportReply {
  ok: true;
  jobId: string;
  contentType: 'text/csv';
  bucket: string;
  name: string;
  size: number;
}

export interface HistoryReply {
  ok: true;
  /**
   * One page of the job's events in order, up to `atVersion` or `atTime` when given: `limit` of
   * them, or fewer when more would not fit in one NATS message.
   */
  events: JobEvent[];
  /** The job at `atVersion` or `atTime`, or now, the same on every page; null before it was created. */
  state: JobSnapshot | null;
  /** The `cursor` of the next page; null on the last. */
  nextCursor: string | null;
  /**
   * On the last page: a `cursor` that reads the events after this page's last one, up to the job's
   * version when it is used (whose state its reply has), and ends with the next such cursor; its page
   * is empty when nothing happened since. Null on the other pages. What a page that stays live
   * reads on with.
   */
  latestCursor: string | null;
  /**
   * Messages on the job's events subject that are no commit the service could have written (anyone
   * allowed to publish there may have put them), left out of the events and the state: those from
   * where this page starts to where the next one does (on the last page, to the history's last
   * version), at most 100 a page.
   */
  quarantined: { position: number; reason: string }[];
}

/** Every status, with the number of jobs in it that match the filters (0 included). */
export type StatusCountsReply = { ok: true } & StatusCounts;
export interface StatusCounts {
  counts: Record<JobStatus, number>;
}

export interface QueryReplies {
  list: ListReply;
  'status-counts': StatusCountsReply;
  get: GetReply;
  logs: LogsReply;
  rejects: RejectsReply;
  'rejects-export': RejectsExportReply;
  history: HistoryReply;
}

export type QueryReply<N extends QueryName = QueryName> = QueryReplies[N];
