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
import { headers as natsHeaders, type NatsConnection, type Status } from '@nats-io/nats-core';
import { LRUCache } from 'lru-cache';
import {
  EVENT_HEADERS,
  decodeCommit,
  jobSubjects,
  type EncodedJobEventCommit,
  type JobEvent,
  type JobEventCommit,
  type JobSubjects,
  type UnpositionedJobEvent,
} from '#contracts';
import {
  ConcurrencyError,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ReadJobOptions,
  type SubscribeOptions,
} from './event-store.port.js';
import { decodeEach } from './decode-each.js';
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

interface JobHead {
  version: number;
  /** Stream sequence of the job's last commit: what JetStream checks on the next append. */
  sequence: number;
}

/** Up to this many commits a job read uses direct gets; beyond, an ordered consumer is cheaper. */
const DIRECT_READ_LIMIT = 16;

/** How long a pull for the next commits waits; the consumer's idle heartbeats come at half of it. */
const CONSUMER_EXPIRES_MS = 5_000;

/** Commits handed over at once by a read of many. */
const MAX_READ_BATCH = 1_000;

/** How many jobs' heads to remember: beyond it, an append costs one extra direct get. */
const MAX_CACHED_HEADS = 100_000;

/**
 * Event store on a JetStream stream: one subject per job, one message per commit. A commit of
 * several events (a reject that crosses the limit and the job's end) is one message, so no reader
 * ever sees half of it; nats-server 2.9 has no atomic multi-message publish.
 */
export class JetStreamEventStore implements EventStore {
  private readonly subjects: JobSubjects;
  /** The heads of the jobs appended to or read most recently. */
  private readonly heads = new LRUCache<string, JobHead>({ max: MAX_CACHED_HEADS });
  private readonly publisher: JetStreamPublisher;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly options: JetStreamEventStoreOptions,
  ) {
    this.subjects = jobSubjects(options.subjectPrefix);
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

  async append(jobId: string, events: UnpositionedJobEvent[], { expectedVersion, commitId }: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) throw new Error('a commit needs at least one event');
    const known = this.expectedSequence(jobId, expectedVersion);
    // Awaited only when the head has to be read: with the head cached, the append goes on synchronously.
    const expectedSequence = typeof known === 'number' ? known : await known;
    const last = events[events.length - 1]!;
    const headers = natsHeaders();
    // `append` on a fresh set: `set` would first scan for a previous value of each header.
    headers.append(EVENT_HEADERS.type, events.map((event) => event.type).join(','));
    headers.append(EVENT_HEADERS.jobId, jobId);
    headers.append(EVENT_HEADERS.version, String(last.version));
    headers.append(PubHeaders.MsgIdHdr, commitId);
    headers.append(PubHeaders.ExpectedLastSubjectSequenceHdr, String(expectedSequence));
    try {
      const ack = await this.publisher.publish(this.subjects.jobEvents(jobId), JSON.stringify(events), headers);
      if (!ack.duplicate) this.heads.set(jobId, { version: last.version, sequence: ack.seq });
      return { position: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) {
        this.heads.delete(jobId);
        throw new ConcurrencyError(jobId, expectedVersion);
      }
      throw error;
    }
  }

  /** The stream sequence JetStream must find as the job's last for this append to go through. */
  private expectedSequence(jobId: string, expectedVersion: number): number | Promise<number> {
    const cached = this.heads.get(jobId);
    if (cached?.version === expectedVersion) return cached.sequence;
    // A new job needs no look-up: JetStream itself refuses sequence 0 when the subject has messages.
    if (expectedVersion === 0 && !cached) return 0;
    return this.expectedSequenceFromStream(jobId, expectedVersion);
  }

  private async expectedSequenceFromStream(jobId: string, expectedVersion: number): Promise<number> {
    const head = await this.loadHead(jobId);
    if (head.version === expectedVersion) return head.sequence;
    if (head.version < expectedVersion) throw new ConcurrencyError(jobId, expectedVersion);
    // The job is past that version, maybe by this very commit: a sequence that is surely stale lets
    // JetStream answer "duplicate" when it holds the commit id, and "wrong last sequence" otherwise.
    return head.sequence - 1;
  }

  private async loadHead(jobId: string): Promise<JobHead> {
    const last = await this.lastMessage(jobId);
    if (!last) return { version: 0, sequence: 0 };
    const head = { version: Number(last.header.get(EVENT_HEADERS.version)), sequence: last.seq };
    this.heads.set(jobId, head);
    return head;
  }

  private async lastMessage(jobId: string): Promise<StoredMsg | null> {
    try {
      return await this.jsm.direct.getMessage(this.options.stream, { last_by_subj: this.subjects.jobEvents(jobId) });
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
      throw error;
    }
  }

  async jobHead(jobId: string): Promise<{ version: number; position: number }> {
    const head = await this.loadHead(jobId);
    return { version: head.version, position: head.sequence };
  }

  async readJob(jobId: string, { afterVersion = 0, afterPosition = 0 }: ReadJobOptions = {}): Promise<JobEvent[]> {
    const last = await this.lastMessage(jobId);
    if (!last) return [];
    const lastCommit = decodeCommit({ position: last.seq, events: last.string() });
    this.heads.set(jobId, { version: lastCommit.events.at(-1)!.version, sequence: last.seq });
    const newer = (commit: JobEventCommit) => commit.events.filter((event) => event.version > afterVersion);
    // Most reads are of a job one commit behind (another instance appended): the last message is all.
    if (lastCommit.events[0]!.version <= afterVersion + 1) return newer(lastCommit);
    const missing = lastCommit.events[0]!.version - 1 - afterVersion;
    const commits =
      missing <= DIRECT_READ_LIMIT
        ? this.readCommitsDirect(jobId, afterPosition, last.seq)
        : this.readCommits(this.subjects.jobEvents(jobId), afterPosition, last.seq - 1);
    const events: JobEvent[] = [];
    for await (const batch of commits) for (const commit of batch) events.push(...newer(decodeCommit(commit)));
    events.push(...newer(lastCommit));
    return events;
  }

  /** A job's commits after a sequence and before `before`, one direct get each: no consumer to set up. */
  private async *readCommitsDirect(jobId: string, afterSequence: number, before: number): AsyncIterable<EncodedJobEventCommit[]> {
    const subject = this.subjects.jobEvents(jobId);
    let sequence = afterSequence;
    for (;;) {
      const message = await this.jsm.direct.getMessage(this.options.stream, { seq: sequence + 1, next_by_subj: subject });
      if (!message || message.seq >= before) return;
      sequence = message.seq;
      yield [{ position: message.seq, events: message.string() }];
    }
  }

  async headPosition(): Promise<number> {
    const info = await this.jsm.streams.info(this.options.stream);
    return info.state.last_seq;
  }

  subscribe(options: SubscribeOptions): AsyncIterable<JobEventCommit> {
    return decodeEach(this.subscribeEncoded(options));
  }

  async *subscribeEncoded({ afterPosition, live, signal }: SubscribeOptions): AsyncIterable<EncodedJobEventCommit[]> {
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
          batch.push({ position: message.seq, events: message.string() });
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
    this.heads.clear();
  }
}
