import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { z } from 'zod';
import {
  DEFAULT_SUBJECT_PREFIX,
  JOB_ID_PATTERN,
  jobSubjects,
  type CommandBody,
  type CommandName,
  type CommandOkReply,
  type JobEvent,
  type JobSubjects,
  type QueryName,
  type QueryReply,
  type querySchemas,
} from '#contracts';
import { natsConnectionOptions, type JobsConnectionOptions } from './connection-options.js';
import { followEvents } from './event-feed.js';
import { JobsError } from './jobs-error.js';
import { DEFAULT_RETRY_POLICY, requestWithRetry, type RequestFn, type RetryPolicy } from './retry.js';

export interface JobsClientOptions {
  /** The service's JOBS_SUBJECT_PREFIX: `jobs` by default. */
  subjectPrefix?: string;
  /** The service's JOBS_STREAM, where `watch` reads the events: `JOBS` by default. */
  stream?: string;
  /**
   * Who sends the commands: they go to `<prefix>.cmd.<name>.as.<actor>`, the only subjects a user of
   * `deploy/nats/jobs.conf` may send on (its own name), and their body carries no actor. Without it,
   * commands go to `<prefix>.cmd.<name>`, with the body's `actor` if any.
   */
  actor?: string;
  /** How long one attempt waits for its reply: 5 s by default. */
  requestTimeoutMs?: number;
  /** Retries on transient failures: `DEFAULT_RETRY_POLICY` for what is not given. */
  retry?: Partial<RetryPolicy>;
}

export interface CommandOptions {
  /** This command's actor, in place of the client's (a gateway sending each user's commands as that user). */
  actor?: string;
  timeoutMs?: number;
}

export interface QueryOptions {
  timeoutMs?: number;
}

/** A query's body as sent: its defaults (limit, sort, ...) may be left out. */
export type QueryInput<N extends QueryName> = z.input<(typeof querySchemas)[N]>;

export interface WatchOptions {
  /**
   * The position of the last event already handled: the events after it come (0, by default: from
   * the start). The events of one command share their commit's position, so stop between commits
   * (after the last event of a position) or resume from the one before and skip what you handled.
   */
  fromPosition?: number;
  /** Ends the iteration; so does a `break` out of `for await`. */
  signal?: AbortSignal;
}

/** An actor named in a subject is one NATS subject token. */
const SUBJECT_TOKEN = /^[^\s.*>]{1,200}$/;

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** How the service's ok replies begin: it writes them with JSON.stringify, `ok` first. */
const OK_REPLY_START = '{"ok":true,';

/** An ok reply's JSON text, as `queryJson`'s requests carry it through the retries. */
interface OkReplyText {
  ok: true;
  json: string;
}

function validationFailed(path: string, message: string): JobsError {
  return new JobsError({ code: 'VALIDATION_FAILED', message: `${path}: ${message}`, issues: [{ path, message }] });
}

/**
 * The job-tracking service's API version 1 over NATS, typed: one method per command and query, and
 * the events as async iterables.
 *
 * Every method returns the ok reply, or throws a `JobsError` carrying the reply's error (`code`,
 * `message`, and its extra fields in `error`): `catch (e) { if (isJobsError(e, 'INVALID_TRANSITION')) … }`.
 * A failure of NATS itself that a retry cannot cure (a permissions violation, a closed connection)
 * is thrown as nats.js throws it.
 *
 * Each command carries a `commandId`, made here (a random UUID) unless the body gives one. A call
 * that gets TIMEOUT or UNAVAILABLE, no reply in time, no responders or a lost connection is sent
 * again, with the same body and so the same `commandId`: the service applies it once and answers
 * the retry with the first reply (`create` without a `jobId` lands on the job the command id names).
 * No other error is retried. Queries retry the same way. By default 4 attempts, 200 ms, 400 ms and
 * 800 ms apart, each waiting 5 s for its reply (`requestTimeoutMs`, `retry`).
 */
export class JobsClient {
  private readonly subjects: JobSubjects;
  private readonly stream: string;
  private readonly actor: string | undefined;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly request: RequestFn;
  private readonly requestJson: RequestFn;
  private js: JetStreamClient | undefined;
  private ownsConnection = false;

  /** A client on a connection of the caller's, which `close` leaves open. */
  constructor(
    readonly nc: NatsConnection,
    options: JobsClientOptions = {},
  ) {
    if (options.actor !== undefined && !SUBJECT_TOKEN.test(options.actor)) {
      throw validationFailed('actor', 'an actor named in a subject is 1 to 200 characters, without spaces, ".", "*" or ">"');
    }
    this.subjects = jobSubjects(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
    this.stream = options.stream ?? 'JOBS';
    this.actor = options.actor;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.request = async (subject, body, timeout) => parseReply((await nc.request(subject, body, { timeout })).string());
    this.requestJson = async (subject, body, timeout): Promise<OkReplyText | unknown> => {
      const text = (await nc.request(subject, body, { timeout })).string();
      if (text.startsWith(OK_REPLY_START)) return { ok: true, json: text };
      // Any other reply is read as `request` reads it: an error, or an ok reply written otherwise.
      const reply = parseReply(text);
      return isOkReply(reply) ? { ok: true, json: JSON.stringify(reply) } : reply;
    };
  }

  /** Connects to NATS (token, user and password, creds file or TLS, as the service's own configuration takes them); `close` closes it. */
  static async connect(options: JobsConnectionOptions & JobsClientOptions = {}): Promise<JobsClient> {
    const nc = await connect(natsConnectionOptions(options));
    try {
      const client = new JobsClient(nc, options);
      client.ownsConnection = true;
      return client;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /** Sends command `name`; see the class's comment for the commandId and the retries. */
  command<N extends CommandName>(name: N, body: CommandBody<N>, options: CommandOptions = {}): Promise<CommandOkReply> {
    const actor = options.actor ?? this.actor;
    if (actor !== undefined && !SUBJECT_TOKEN.test(actor)) {
      return Promise.reject(
        validationFailed('actor', 'an actor named in a subject is 1 to 200 characters, without spaces, ".", "*" or ">"'),
      );
    }
    const subject = actor === undefined ? this.subjects.command(name) : `${this.subjects.command(name)}.as.${actor}`;
    const withId = { ...body, commandId: body.commandId ?? randomUUID() };
    return requestWithRetry(this.request, {
      subject,
      body: JSON.stringify(withId),
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      policy: this.policy,
    });
  }

  /** Sends query `name`, retried on transient failures. */
  query<N extends QueryName>(name: N, body: QueryInput<N>, options: QueryOptions = {}): Promise<QueryReply<N>> {
    return requestWithRetry(this.request, {
      subject: this.subjects.query(name),
      body: JSON.stringify(body),
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      policy: this.policy,
    });
  }

  /**
   * Sends query `name` and returns its ok reply as JSON text, the service's own text unparsed: for
   * a gateway that passes replies on (the HTTP API). Errors and retries as `query`.
   */
  async queryJson<N extends QueryName>(name: N, body: QueryInput<N>, options: QueryOptions = {}): Promise<string> {
    const reply = await requestWithRetry<OkReplyText>(this.requestJson, {
      subject: this.subjects.query(name),
      body: JSON.stringify(body),
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      policy: this.policy,
    });
    return reply.json;
  }

  create(body: CommandBody<'create'>, options?: CommandOptions) {
    return this.command('create', body, options);
  }
  update(body: CommandBody<'update'>, options?: CommandOptions) {
    return this.command('update', body, options);
  }
  start(body: CommandBody<'start'>, options?: CommandOptions) {
    return this.command('start', body, options);
  }
  pause(body: CommandBody<'pause'>, options?: CommandOptions) {
    return this.command('pause', body, options);
  }
  markPaused(body: CommandBody<'mark-paused'>, options?: CommandOptions) {
    return this.command('mark-paused', body, options);
  }
  cancel(body: CommandBody<'cancel'>, options?: CommandOptions) {
    return this.command('cancel', body, options);
  }
  markCancelled(body: CommandBody<'mark-cancelled'>, options?: CommandOptions) {
    return this.command('mark-cancelled', body, options);
  }
  finish(body: CommandBody<'finish'>, options?: CommandOptions) {
    return this.command('finish', body, options);
  }
  fail(body: CommandBody<'fail'>, options?: CommandOptions) {
    return this.command('fail', body, options);
  }
  shutdown(body: CommandBody<'shutdown'>, options?: CommandOptions) {
    return this.command('shutdown', body, options);
  }
  progress(body: CommandBody<'progress'>, options?: CommandOptions) {
    return this.command('progress', body, options);
  }
  log(body: CommandBody<'log'>, options?: CommandOptions) {
    return this.command('log', body, options);
  }
  reject(body: CommandBody<'reject'>, options?: CommandOptions) {
    return this.command('reject', body, options);
  }

  list(body: QueryInput<'list'> = {}, options?: QueryOptions) {
    return this.query('list', body, options);
  }
  statusCounts(body: QueryInput<'status-counts'> = {}, options?: QueryOptions) {
    return this.query('status-counts', body, options);
  }
  get(body: QueryInput<'get'>, options?: QueryOptions) {
    return this.query('get', body, options);
  }
  logs(body: QueryInput<'logs'>, options?: QueryOptions) {
    return this.query('logs', body, options);
  }
  rejects(body: QueryInput<'rejects'>, options?: QueryOptions) {
    return this.query('rejects', body, options);
  }
  rejectsExport(body: QueryInput<'rejects-export'>, options?: QueryOptions) {
    return this.query('rejects-export', body, options);
  }
  history(body: QueryInput<'history'>, options?: QueryOptions) {
    return this.query('history', body, options);
  }

  /**
   * A job's events from the event stream, each with its commit's `position`, in order, following
   * live: `for await (const event of client.watch(jobId, { fromPosition })) …`. A commit that is
   * not one the service writes (see `decodeCommit`) is skipped: the service quarantines it too.
   */
  watch(jobId: string, options: WatchOptions = {}): AsyncIterable<JobEvent> {
    if (!JOB_ID_PATTERN.test(jobId)) throw validationFailed('jobId', 'a job id is 1 to 128 letters, digits, "-" or "_"');
    return this.follow(this.subjects.jobEvents(jobId), options);
  }

  /** Every job's events, as `watch` gives one job's. */
  watchAll(options: WatchOptions = {}): AsyncIterable<JobEvent> {
    return this.follow(this.subjects.allEvents, options);
  }

  /** Closes the connection if `connect` opened it, once what was sent is flushed. */
  async close(): Promise<void> {
    if (this.ownsConnection) await this.nc.drain();
  }

  private follow(filter: string, { fromPosition = 0, signal }: WatchOptions): AsyncIterable<JobEvent> {
    if (!Number.isSafeInteger(fromPosition) || fromPosition < 0)
      throw validationFailed('fromPosition', 'a position is a whole number from 0');
    this.js ??= jetstream(this.nc);
    return followEvents(this.js, { stream: this.stream, eventsSubjectPrefix: this.subjects.jobEvents(''), filter, fromPosition, signal });
  }
}

/** A reply's JSON value; undefined when it is no JSON, which the retries answer as INTERNAL. */
function parseReply(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isOkReply(reply: unknown): boolean {
  return typeof reply === 'object' && reply !== null && (reply as { ok?: unknown }).ok === true;
}
