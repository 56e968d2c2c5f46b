export class PositionTimeout extends Error {
  constructor(
    readonly wanted: number,
    readonly reached: number,
  ) {
    super(`the read models reached position ${reached}, not ${wanted}, in time`);
  }
}

/**
 * The position of the last commit the read models have applied, and the queries waiting for it to
 * reach theirs: how a client reads its own writes.
 */
export class AppliedPosition {
  private waiters: { position: number; resolve: () => void }[] = [];

  constructor(private reached = 0) {}

  get position(): number {
    return this.reached;
  }

  /** The read models have applied `position` (a lower one changes nothing): lets go the queries it satisfies. */
  advanceTo(position: number): void {
    this.reached = Math.max(this.reached, position);
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((waiter) => waiter.position <= this.reached);
    this.waiters = this.waiters.filter((waiter) => waiter.position > this.reached);
    for (const waiter of ready) waiter.resolve();
  }

  /** Resolves once the read models have applied `position`; rejects with PositionTimeout after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<void> {
    if (this.reached >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new PositionTimeout(position, this.reached));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** How many queries wait now. */
  get waiting(): number {
    return this.waiters.length;
  }
}
