import type { JobSummary } from '#contracts';
import type { JobChange } from '#client';

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
  /**
   * How long a change waits for the changes that follow it: every `intervalMs` the jobs changed
   * meanwhile are read and sent, one message each, so at most one message per job per interval.
   */
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
 * Turns a feed of changes (commits) into one message per changed job and interval: a change waits up to
 * `intervalMs` for the job's changes that follow, which are folded into the same message, carrying
 * the job's summary read at their last position. The jobs changed in an interval are read together,
 * so their reads leave in one write and their messages come out together. Never drops a job's last
 * state: a change waits, it is never skipped.
 */
export class JobChangeCoalescer {
  private readonly pending = new Map<string, PendingChange>();
  /** Changes whose summary is being read: the first position each covers. */
  private readonly reading = new Map<string, number>();
  /** Jobs whose summary could not be read: not tried again before this time. */
  private readonly retryAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** The last position added: every send follows an add. */
  private seen = 0;
  private closed = false;

  constructor(private readonly options: JobChangeCoalescerOptions) {}

  add({ jobId, position, types }: JobChange): void {
    if (this.closed) return;
    this.seen = Math.max(this.seen, position);
    const change = this.pending.get(jobId);
    if (change === undefined) {
      this.pending.set(jobId, { first: position, last: position, types: new Set(types) });
    } else {
      change.last = position;
      for (const type of types) change.types.add(type);
    }
    this.schedule();
  }

  /** Whether any change waits to be sent. */
  get idle(): boolean {
    return this.pending.size === 0 && this.reading.size === 0;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.closed || this.timer !== null || this.pending.size === 0) return;
    this.timer = setTimeout(() => this.flush(), this.options.intervalMs);
  }

  /** Reads and sends every waiting job but those still being read or waiting to be tried again. */
  private flush(): void {
    this.timer = null;
    const now = Date.now();
    for (const jobId of [...this.pending.keys()]) {
      if (this.reading.has(jobId) || (this.retryAt.get(jobId) ?? now) > now) continue;
      this.retryAt.delete(jobId);
      void this.send(jobId);
    }
    this.schedule();
  }

  private async send(jobId: string): Promise<void> {
    const change = this.pending.get(jobId)!;
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
      this.retryAt.set(jobId, Date.now() + this.options.retryMs);
      this.options.onError(error, jobId);
      this.schedule();
      return;
    }
    this.reading.delete(jobId);
    if (this.closed) return;
    this.options.send({ id: this.resumePoint(), jobId, position: change.last, types: [...change.types], job });
  }

  /** The last position before every change not yet sent. */
  private resumePoint(): number {
    let point = this.seen;
    for (const change of this.pending.values()) point = Math.min(point, change.first - 1);
    for (const first of this.reading.values()) point = Math.min(point, first - 1);
    return point;
  }
}
