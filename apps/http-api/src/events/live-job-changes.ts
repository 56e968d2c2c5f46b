import type { JobSummary } from '#contracts';
import { JobChangeCoalescer, type JobChangeMessage } from './job-change-coalescer.js';
import type { LiveJobEvents, LiveSubscriber } from './live-job-events.js';

/** One client of a stream from now. */
export interface LiveClient {
  /** Only this job's changes; every job's when undefined. */
  readonly jobId: string | undefined;
  /** Writes a message or a comment, the same bytes for every client (the client ends its own stream when it reads too slowly). */
  write(chunk: Buffer): void;
  /** The shared feed failed: the client's stream ends, and it resumes from its last id. */
  end(): void;
}

export interface LiveJobChangesOptions {
  /** How long a change waits for the job's changes that follow it (see JobChangeCoalescer). */
  intervalMs: number;
  retryMs: number;
  keepAliveMs: number;
  /**
   * The messages of this long are written together: one write per client and window rather than one
   * per message, since with many clients the writes, not the messages, cost the process its time.
   */
  batchMs: number;
  summaryAt(jobId: string, minPosition: number): Promise<JobSummary>;
  onError(error: unknown, jobId: string): void;
}

/**
 * The job changes from now, shared by every stream of the process that starts from now: one
 * coalescer reads each job's summary once and each message is serialized once, then written to every
 * client that watches the job. A client that attaches later gets the messages from then on.
 */
export class LiveJobChanges {
  private readonly everyJob = new Set<LiveClient>();
  private readonly byJob = new Map<string, Set<LiveClient>>();
  private changes: JobChangeCoalescer | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  /** Messages not written yet: for the streams of every job, and for each job's own streams. */
  private unsent = { everyJob: [] as Buffer[], byJob: new Map<string, Buffer[]>() };
  private flushing: NodeJS.Timeout | null = null;
  private readonly subscriber: LiveSubscriber = {
    onChange: (change) => {
      if (this.everyJob.size > 0 || this.byJob.has(change.jobId)) this.changes?.add(change);
    },
    onEnd: () => {
      for (const client of this.clients()) client.end();
    },
  };

  constructor(
    private readonly live: Pick<LiveJobEvents, 'attach' | 'detach'>,
    private readonly options: LiveJobChangesOptions,
  ) {}

  /** Writes `client` the changes from now on, until `detach`. */
  async attach(client: LiveClient): Promise<void> {
    if (this.changes === null) this.open();
    if (client.jobId === undefined) this.everyJob.add(client);
    else {
      const watchers = this.byJob.get(client.jobId) ?? new Set();
      watchers.add(client);
      this.byJob.set(client.jobId, watchers);
    }
    try {
      await this.live.attach(this.subscriber);
    } catch (error) {
      this.detach(client);
      throw error;
    }
  }

  detach(client: LiveClient): void {
    if (client.jobId === undefined) this.everyJob.delete(client);
    else {
      const watchers = this.byJob.get(client.jobId);
      watchers?.delete(client);
      if (watchers?.size === 0) this.byJob.delete(client.jobId);
    }
    if (this.everyJob.size === 0 && this.byJob.size === 0) this.close();
  }

  private open(): void {
    this.changes = new JobChangeCoalescer({
      intervalMs: this.options.intervalMs,
      retryMs: this.options.retryMs,
      summaryAt: this.options.summaryAt,
      send: (message) => this.send(message),
      onError: this.options.onError,
    });
    const comment = Buffer.from(': keep-alive\n\n');
    this.keepAlive = setInterval(() => {
      for (const client of this.clients()) client.write(comment);
    }, this.options.keepAliveMs);
  }

  private close(): void {
    this.changes?.close();
    this.changes = null;
    if (this.keepAlive !== null) clearInterval(this.keepAlive);
    this.keepAlive = null;
    if (this.flushing !== null) clearTimeout(this.flushing);
    this.flushing = null;
    this.unsent.everyJob = [];
    this.unsent.byJob.clear();
    this.live.detach(this.subscriber);
  }

  private send({ id, jobId, position, types, job }: JobChangeMessage): void {
    const body = `event: job\ndata: ${JSON.stringify({ jobId, position, types, job })}\n\n`;
    if (this.everyJob.size > 0) this.unsent.everyJob.push(Buffer.from(`id: ${id}\n${body}`));
    if (this.byJob.has(jobId)) {
      // On a stream of one job, every change of that job up to the message's position was sent: the
      // other jobs' waiting changes, which hold back `id`, do not concern it.
      const unsent = this.unsent.byJob.get(jobId) ?? [];
      unsent.push(Buffer.from(`id: ${position}\n${body}`));
      this.unsent.byJob.set(jobId, unsent);
    }
    this.flushing ??= setTimeout(() => this.flush(), this.options.batchMs);
  }

  private flush(): void {
    this.flushing = null;
    const { everyJob, byJob } = this.unsent;
    this.unsent.everyJob = [];
    this.unsent.byJob = new Map();
    if (everyJob.length > 0) {
      const chunk = Buffer.concat(everyJob);
      for (const client of [...this.everyJob]) client.write(chunk);
    }
    for (const [jobId, unsent] of byJob) {
      const chunk = Buffer.concat(unsent);
      for (const client of [...(this.byJob.get(jobId) ?? [])]) client.write(chunk);
    }
  }

  private *clients(): Iterable<LiveClient> {
    yield* [...this.everyJob];
    for (const watchers of [...this.byJob.values()]) yield* [...watchers];
  }
}
