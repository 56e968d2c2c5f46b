/** One progress command: counts, and where the handler is when it is a checkpoint. */
export interface ProgressUpdate {
  processed: number;
  total?: number;
  /** Present on a checkpoint only. */
  checkpoint?: unknown;
}

/** At most 4 progress events a second per job. */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * Turns a handler's progress calls into a few progress commands: the first at once, then at most one
 * per interval carrying the latest counts, so the last value always goes. Commands go one at a time,
 * in order; a checkpoint takes the place of counts still waiting (it carries newer ones).
 */
export class ProgressCoalescer {
  private pending: ProgressUpdate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  /** The commands in flight, in order; never rejects. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    /** Sends one progress command; a failure of a coalesced one is the caller's to report. */
    private readonly send: (update: ProgressUpdate) => Promise<void>,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  report(processed: number, total?: number): void {
    this.pending = total === undefined ? { processed } : { processed, total };
    if (this.timer !== null) return;
    const wait = this.lastSentAt + this.intervalMs - Date.now();
    if (wait <= 0) this.sendPending();
    else this.timer = setTimeout(() => this.sendPending(), wait);
  }

  /** Sends a checkpoint after what is in flight; resolves once the service recorded it. */
  checkpoint(value: unknown, processed: number, total?: number): Promise<void> {
    const waitingTotal = this.pending?.total;
    this.cancelPending();
    const resolvedTotal = total ?? waitingTotal;
    return this.enqueue({ processed, checkpoint: value, ...(resolvedTotal === undefined ? {} : { total: resolvedTotal }) });
  }

  /** Sends what waits at once; resolves once every command sent so far is answered. */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.sendPending();
    await this.chain;
  }

  /** Drops what waits: the job is no longer this executor's. */
  cancelPending(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }

  private sendPending(): void {
    this.timer = null;
    const update = this.pending;
    this.pending = null;
    if (update !== null) void this.enqueue(update).catch(() => undefined);
  }

  private enqueue(update: ProgressUpdate): Promise<void> {
    this.lastSentAt = Date.now();
    const sent = this.chain.then(() => this.send(update));
    this.chain = sent.catch(() => undefined);
    return sent;
  }
}
