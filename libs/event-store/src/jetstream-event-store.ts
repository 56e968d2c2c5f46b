import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  PubHeaders,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection, type Status } from '@nats-io/nats-core';
import { EVENT_HEADERS, jobSubjects, type EncodedJobEventCommit, type JobSubjects, type UnpositionedJobEvent } from '#contracts';
import {
  ConcurrencyError,
  reaches,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ReadJobOptions,
  type SubscribeOptions,
} from './event-store.port.js';
import { JetStreamPublisher } from './jetstream-publisher.js';

export interface JetStreamEventStoreOptions {
  /** Stream that holds every job's events. */
  stream: string;
  /** Subject prefix: events go to `<prefix>.events.<jobId>`. */
  subjectPrefix: string;
  replicas: number;
  /** How long JetStream remembers a commit id to drop a retried append (ms). */
  duplicateWindowMs: number;
  /** Publish acknowledgement timeout (ms). */
  timeoutMs: number;
}

export const DEFAULT_JETSTREAM_OPTIONS: JetStreamEventStoreOptions = {
  stream: 'JOBS',
  subjectPrefix: 'jobs',
  replicas: 1,
  duplicateWindowMs: 10 * 60_000,
  timeoutMs: 5_000,
};

/** Up to this many commits a job read uses direct gets; beyond, an ordered consumer is cheaper. */
const DIRECT_READ_LIMIT = 16;

/** How long a pull for the next commits waits; the consumer's idle heartbeats come at half of it. */
const CONSUMER_EXPIRES_MS = 5_000;

/** Commits handed over at once by a read of many. */
const MAX_READ_BATCH = 1_000;

/**
 * Event store on a JetStream stream: one subject per job, one message per commit. A commit of
 * several events (a reject that crosses the limit and the job's end) is one message, so no reader
 * ever sees half of it; nats-server 2.9 has no atomic multi-message publish.
 */
export class JetStreamEventStore implements EventStore {
  private readonly subjects: JobSubjects;
  /** What the subject of every job's events starts with: the rest is the job. */
  private readonly eventsSubjectPrefix: string;
  private readonly publisher: JetStreamPublisher;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly options: JetStreamEventStoreOptions,
  ) {
    this.subjects = jobSubjects(options.subjectPrefix);
    this.eventsSubjectPrefix = this.subjects.jobEvents('');
    this.publisher = new JetStreamPublisher(nc, options.timeoutMs);
  }

  /** Connects to the stream, creating it or updating its settings first. */
  static async open(nc: NatsConnection, options: Partial<JetStreamEventStoreOptions> = {}): Promise<JetStreamEventStore> {
    const settings = { ...DEFAULT_JETSTREAM_OPTIONS, ...options };
    const jsm = await jetstreamManager(nc);
    const store = new JetStreamEventStore(nc, jetstream(nc, { timeout: settings.timeoutMs }), jsm, settings);
    await store.ensureStream();
    return store;
  }

  private async ensureStream(): Promise<void> {
    const { stream, replicas, duplicateWindowMs } = this.options;
    const config: Partial<StreamConfig> = {
      subjects: [this.subjects.allEvents],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
      duplicate_window: duplicateWindowMs * 1_000_000,
      allow_direct: true,
      deny_delete: true,
      // Bounded reads stop at a sequence they know exists: the stream never loses a message.
      deny_purge: true,
    };
    try {
      await this.jsm.streams.info(stream);
      await this.jsm.streams.update(stream, config);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.StreamNotFound) throw error;
      await this.jsm.streams.add({ name: stream, ...config });
    }
  }

  async append(jobId: string, events: UnpositionedJobEvent[], { expectedPosition, commitId }: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) throw new Error('a commit needs at least one event');
    const headers = natsHeaders();
    // `append` on a fresh set: `set` would first scan for a previous value of each header.
    headers.append(EVENT_HEADERS.type, events.map((event) => event.type).join(','));
    headers.append(EVENT_HEADERS.jobId, jobId);
    headers.append(EVENT_HEADERS.version, String(events.at(-1)!.version));
    // JetStream drops a commit id it holds before it checks the sequence: a retry of a stored commit
    // is a duplicate, whatever the job became since.
    headers.append(PubHeaders.MsgIdHdr, commitId);
    headers.append(PubHeaders.ExpectedLastSubjectSequenceHdr, String(expectedPosition));
    try {
      const ack = await this.publisher.publish(this.subjects.jobEvents(jobId), JSON.stringify(events), headers);
      return { position: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) {
        throw new ConcurrencyError(jobId, expectedPosition);
      }
      throw error;
    }
  }

  async readJob(jobId: string, { afterPosition = 0, toVersion = Infinity }: ReadJobOptions = {}): Promise<EncodedJobEventCommit[]> {
    const subject = this.subjects.jobEvents(jobId);
    const lastMessage = () => this.directGet({ last_by_subj: subject });
    // The next commit and the last one side by side: most reads are of a new job, or of a job a
    // commit behind (another instance appended), answered in one round trip. Not for a read that
    // stops at a version: it may stop long before the last commit, which may be large.
    let [next, last] = await Promise.all([
      this.directGet({ seq: afterPosition + 1, next_by_subj: subject }),
      toVersion === Infinity ? lastMessage() : undefined,
    ]);
    const commits: EncodedJobEventCommit[] = [];
    // A few commits, a direct get each, no consumer to set up.
    while (next) {
      const commit = this.commit(jobId, next.seq, next.header, next.string());
      commits.push(commit);
      if (reaches(commit, toVersion) || (last && next.seq >= last.seq)) return commits;
      if (commits.length >= DIRECT_READ_LIMIT) break;
      next = await this.directGet({ seq: next.seq + 1, next_by_subj: subject });
    }
    if (!next) return commits;
    // A long history: an ordered consumer up to the job's last commit, a message that exists.
    last ??= await lastMessage();
    if (!last || last.seq <= next.seq) return commits;
    for await (const batch of this.readCommits(subject, next.seq, last.seq)) {
      for (const commit of batch) {
        commits.push(commit);
        if (reaches(commit, toVersion)) return commits;
      }
    }
    return commits;
  }

  /** A message by a direct get; null when there is none. */
  private async directGet(query: Parameters<JetStreamManager['direct']['getMessage']>[1]): Promise<StoredMsg | null> {
    try {
      return await this.jsm.direct.getMessage(this.options.stream, query);
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
      throw error;
    }
  }

  /** A message as a commit: nothing in it trusted, and nothing in it can make this throw. */
  private commit(jobId: string, position: number, headers: MsgHdrs | undefined, events: string): EncodedJobEventCommit {
    const header = headers?.get(EVENT_HEADERS.version);
    const version = header ? Number(header) : Number.NaN;
    return { position, jobId, version: Number.isSafeInteger(version) ? version : null, events };
  }

  async headPosition(): Promise<number> {
    const info = await this.jsm.streams.info(this.options.stream);
    return info.state.last_seq;
  }

  async *subscribe({ afterPosition, live, signal }: SubscribeOptions): AsyncIterable<EncodedJobEventCommit[]> {
    const until = live ? Infinity : await this.headPosition();
    if (until <= afterPosition) return;
    yield* this.readCommits(this.subjects.allEvents, afterPosition, until, signal);
  }

  /**
   * Commits on `filter` after a stream sequence, up to `until` (Infinity: follow live), a batch at a
   * time: what has arrived, up to MAX_READ_BATCH. Survives a reconnection (a NATS restart loses the
   * ephemeral consumer): it goes on after the last commit it delivered, on a new consumer.
   */
  private async *readCommits(
    filter: string,
    afterSequence: number,
    until: number,
    signal?: AbortSignal,
  ): AsyncIterable<EncodedJobEventCommit[]> {
    let after = afterSequence;
    while (!signal?.aborted) {
      const consumer = await this.js.consumers.get(this.options.stream, {
        // A string (not an array) sends filter_subject, which nats-server 2.9 understands.
        filter_subjects: filter,
        ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
      });
      // Room for a long pull: a reader that pauses (a rebuild waiting for its worker) finds the next commits waiting.
      // Pulls that expire soon, so the server's idle heartbeats come every 2.5 s (half of it).
      const messages = await consumer.consume({ max_messages: 10_000, expires: CONSUMER_EXPIRES_MS });
      const stop = () => messages.stop();
      signal?.addEventListener('abort', stop, { once: true });
      const unwatch = this.onReconnect(stop);
      // The consumer's server died (a cluster node) while this connection is on another: no reconnection
      // tells, only two missed heartbeats; nats.js alone keeps asking for the lost consumer's info, and never makes a new one.
      void (async () => {
        for await (const status of messages.status()) if (status.type === 'heartbeats_missed') stop();
      })();
      try {
        if (signal?.aborted) return;
        let batch: EncodedJobEventCommit[] = [];
        for await (const message of messages) {
          if (message.seq > until) break;
          const jobId = message.subject.slice(this.eventsSubjectPrefix.length);
          batch.push(this.commit(jobId, message.seq, message.headers, message.string()));
          // A bounded read always names a message that exists (no message is deleted or purged).
          const last = message.seq >= until;
          // One hand-over per batch, not per commit: a catch-up reads hundreds of thousands. Whatever
          // is not followed by a message already received goes at once (getPending also counts the
          // iterator's queued pull requests, and could hold a live commit back until the next one).
          if (last || batch.length >= MAX_READ_BATCH || messages.getReceived() === messages.getProcessed()) {
            yield batch;
            after = batch.at(-1)!.position;
            batch = [];
          }
          if (last) return;
        }
        // Stopped (the signal, a reconnection) or past `until`: what is read is delivered first.
        if (batch.length > 0) {
          yield batch;
          after = batch.at(-1)!.position;
        }
        if (after >= until) return;
      } finally {
        unwatch();
        signal?.removeEventListener('abort', stop);
        messages.stop();
      }
    }
  }

  /** Calls `action` each time the connection comes back after losing the server; returns the way to stop. */
  private onReconnect(action: () => void): () => void {
    const statuses = this.nc.status() as AsyncIterable<Status> & { stop(): void };
    void (async () => {
      for await (const status of statuses) if (status.type === 'reconnect') action();
    })();
    return () => statuses.stop();
  }

  async close(): Promise<void> {
    this.publisher.close();
  }
}
