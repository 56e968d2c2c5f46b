import { Worker } from 'node:worker_threads';
import type { EncodedJobEventCommit } from '#contracts';

/**
 * Batches handed over and not yet applied: enough that the worker finds the next one waiting while
 * this thread reads from NATS, few enough to bound memory (a batch is a few thousand commits of a
 * few hundred bytes).
 */
const MAX_BATCHES_IN_FLIGHT = 8;
/** And at most this many characters of commits in flight: a history of huge reject commits stays bounded too. */
const MAX_CHARACTERS_IN_FLIGHT = 64 * 1024 * 1024;

/** Commits as columns: arrays of plain values cost far less to pass to a thread than objects. */
export type BulkLoadRequest =
  | { type: 'apply'; positions: number[]; jobIds: string[]; versions: (number | null)[]; events: string[] }
  | { type: 'finish' };
export type BulkLoadReply = { type: 'applied' } | { type: 'finished'; checkpoint: number; events: number };

export interface BulkLoadResult {
  /** Position of the last commit in the file. */
  checkpoint: number;
  events: number;
}

/**
 * A bulk load (`ReadModelDatabase.openForBulkLoad`) run in a worker thread: this thread reads the
 * event store and hands commits over undecoded, the worker checks and applies them: reading and
 * applying go on side by side, and queries on this thread stay quick meanwhile.
 */
export class ReadModelBulkLoad {
  /** Characters of each batch handed over and not yet applied, oldest first (the worker applies them in order). */
  private readonly inFlight: number[] = [];
  private charactersInFlight = 0;
  private wakeSender: (() => void) | null = null;
  private finished: ((result: BulkLoadResult) => void) | null = null;
  private failure: Error | null = null;
  private failed: ((error: Error) => void) | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly maxCharactersInFlight: number,
  ) {
    worker.on('message', (reply: BulkLoadReply) => {
      if (reply.type === 'applied') {
        this.charactersInFlight -= this.inFlight.shift()!;
        this.wake();
      } else {
        this.finished?.({ checkpoint: reply.checkpoint, events: reply.events });
      }
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`the bulk load worker exited (code ${code})`)));
  }

  /** Opens `file` for a bulk load in a new worker thread. */
  static start(file: string, { maxCharactersInFlight = MAX_CHARACTERS_IN_FLIGHT } = {}): ReadModelBulkLoad {
    // No inherited flags: a test runner's (`--conditions source`) would point the worker at TypeScript sources.
    return new ReadModelBulkLoad(new Worker(workerScript(), { workerData: { file }, execArgv: [] }), maxCharactersInFlight);
  }

  /** Hands commits (in position order) to the worker; resolves once it has room for more. */
  async apply(commits: EncodedJobEventCommit[]): Promise<void> {
    this.throwIfFailed();
    if (commits.length === 0) return;
    const events = commits.map((commit) => commit.events);
    const characters = events.reduce((sum, json) => sum + json.length, 0);
    this.post({
      type: 'apply',
      positions: commits.map((commit) => commit.position),
      jobIds: commits.map((commit) => commit.jobId),
      versions: commits.map((commit) => commit.version),
      events,
    });
    this.inFlight.push(characters);
    this.charactersInFlight += characters;
    // A batch larger than the whole budget still goes, alone: nothing else is handed over until it is applied.
    while (this.inFlight.length >= MAX_BATCHES_IN_FLIGHT || this.charactersInFlight >= this.maxCharactersInFlight) {
      await new Promise<void>((resolve) => {
        this.wakeSender = resolve;
      });
      this.throwIfFailed();
    }
  }

  /** Applies what is handed over, builds the deferred indexes and closes the file, ready to open. */
  finish(): Promise<BulkLoadResult> {
    this.throwIfFailed();
    const result = new Promise<BulkLoadResult>((resolve, reject) => {
      this.finished = resolve;
      this.failed = reject;
    });
    this.post({ type: 'finish' });
    return result.finally(() => this.worker.terminate());
  }

  /** Stops the worker where it is; the file is left half written, for the caller to remove. */
  async abort(): Promise<void> {
    this.failure ??= new Error('the bulk load was aborted');
    await this.worker.terminate();
  }

  private post(request: BulkLoadRequest): void {
    this.worker.postMessage(request);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
    this.failed?.(this.failure);
  }

  private wake(): void {
    const wake = this.wakeSender;
    this.wakeSender = null;
    wake?.();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

/**
 * The worker runs compiled JavaScript. Under vitest this module is its TypeScript source, so the
 * worker is taken from the build next to it (`npm test` builds first).
 */
function workerScript(): URL {
  const url = new URL('./read-model-bulk-load.worker.js', import.meta.url);
  return import.meta.url.endsWith('.ts') ? new URL(url.href.replace('/libs/read-models/', '/dist/libs/read-models/')) : url;
}
