import type { JobEvent, JobSummary } from '#contracts';

/** One Server-Sent Event: a job changed. */
export interface JobChangeMessage {
  /**
   * The resume point (`id:`): every change up to this position was sent before or with this
   * message, so a client that reconnects from it misses nothing. It is this change's position
   * unless another job's earlier change is still waiting its turn.
   */
  id: number;
  jobId: string;
  /** The position of the job's last change this message covers. */
  position: number;
  /** The distinct event types of the commits it covers, in order of first appearance. */
  types: string[];
  /** The job as of at least `position`. */
  job: JobSummary;
}

export interface JobChangeCoalescerOptions {
  /** Shortest time between two messages about one job. */
  intervalMs: number;
  /** How long to wait before trying a job's summary again when reading it failed. */
  retryMs: number;
  summaryAt(jobId: string, minPosition: number): Promise<JobSummary>;
  send(message: JobChangeMessage): void;
  onError(error: unknown, jobId: string): void;
}

interface PendingChange {
  /** The first position not yet sent. */
  first: number;
  last: number;
  types: Set<string>;
}

/**
 * Turns a feed of events into one message per changed job, at most one per job every `intervalMs`:
 * a job's changes that come meanwhile are folded into its next message, which carries its summary
 * read at their last position. Never drops a job's last state: a change waits, it is never skipped.
 */
export class JobChangeCoalescer {
  private readonly pending = new Map<string, PendingChange>();
  /** Changes whose summary is being read: the first position each covers. */
  private readonly reading = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lastSent = new Map<string, number>();
  /** The last position added: every send follows an add. */
  private seen = 0;
  private closed = false;

  constructor(private readonly options: JobChangeCoalescerOptions) {}

  add(event: JobEvent): void {
    if (this.closed) return;
    this.seen = Math.max(this.seen, event.position);
    const change = this.pending.get(event.jobId);
    if (change === undefined) {
      this.pending.set(event.jobId, { first: event.position, last: event.position, types: new Set([event.type]) });
    } else {
      change.last = event.position;
      change.types.add(event.type);
    }
    this.schedule(event.jobId);
  }

  /** Whether any change waits to be sent. */
  get idle(): boolean {
    return this.pending.size === 0 && this.reading.size === 0;
  }

  /** Forgets the send times that no longer hold a job back, so that a long-lived stream of many jobs stays small. */
  prune(now = Date.now()): void {
    for (const [jobId, at] of this.lastSent) if (now - at >= this.options.intervalMs) this.lastSent.delete(jobId);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(jobId: string): void {
    if (this.closed || this.timers.has(jobId) || this.reading.has(jobId)) return;
    const wait = Math.max(0, (this.lastSent.get(jobId) ?? Number.NEGATIVE_INFINITY) + this.options.intervalMs - Date.now());
    this.timers.set(
      jobId,
      setTimeout(() => void this.flush(jobId), wait),
    );
  }

  private async flush(jobId: string): Promise<void> {
    this.timers.delete(jobId);
    const change = this.pending.get(jobId);
    if (change === undefined || this.closed) return;
    this.pending.delete(jobId);
    this.reading.set(jobId, change.first);
    let job: JobSummary;
    try {
      job = await this.options.summaryAt(jobId, change.last);
    } catch (error) {
      this.reading.delete(jobId);
      if (this.closed) return;
      const newer = this.pending.get(jobId);
      this.pending.set(jobId, {
        first: change.first,
        last: newer?.last ?? change.last,
        types: new Set([...change.types, ...(newer?.types ?? [])]),
      });
      this.lastSent.set(jobId, Date.now() + this.options.retryMs - this.options.intervalMs);
      this.options.onError(error, jobId);
      this.schedule(jobId);
      return;
    }
    this.reading.delete(jobId);
    if (this.closed) return;
    this.lastSent.set(jobId, Date.now());
    this.options.send({ id: this.resumePoint(), jobId, position: change.last, types: [...change.types], job });
    if (this.pending.has(jobId)) this.schedule(jobId);
  }

  /** The last position before every change not yet sent. */
  private resumePoint(): number {
    let point = this.seen;
    for (const change of this.pending.values()) point = Math.min(point, change.first - 1);
    for (const first of this.reading.values()) point = Math.min(point, first - 1);
    return point;
  }
}
