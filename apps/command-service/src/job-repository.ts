import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { CommandOkReply, JobEvent, UnpositionedJobEvent } from '#contracts';
import { evolve, initialJobState, type JobState } from '#domain';
import { EVENT_STORE, type EventStore } from '#event-store';

/** A command found on a job's events. */
export interface StoredCommand {
  /** What the command earned: what a retry gets back. */
  reply: CommandOkReply;
  /** The command's digest: a retry must carry the same command. Undefined on events stored without one. */
  digest: string | undefined;
}

/** A job as this instance last read it, with the commands stored on its events. */
export interface LoadedJob {
  state: JobState;
  /** Position of the job's last commit (0 for a job with no events). */
  position: number;
  /** The commands stored on the job's events, by command id. */
  commands: Map<string, StoredCommand>;
}

/** How many jobs stay in memory; the expected-version check keeps a cached job honest. */
const MAX_CACHED_JOBS = 20_000;

/**
 * Loads jobs from the event store and keeps recent ones in memory. Commands on one job run one at
 * a time in this instance; other instances are kept out by the store's expected-version check.
 */
@Injectable()
export class JobRepository {
  /** The jobs this instance handled most recently. */
  private readonly jobs = new LRUCache<string, LoadedJob>({ max: MAX_CACHED_JOBS });
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Runs `work` after every earlier piece of work on the same job in this instance. */
  serialize<T>(jobId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(jobId);
    // Most commands find their job idle: they start at once, without waiting a turn.
    const run = previous ? previous.then(work, work) : work();
    const release = (): void => {
      if (this.queues.get(jobId) === settled) this.queues.delete(jobId);
    };
    const settled: Promise<void> = run.then(release, release);
    this.queues.set(jobId, settled);
    return run;
  }

  async load(jobId: string): Promise<LoadedJob> {
    const cached = this.jobs.get(jobId);
    if (cached) return cached;
    const job = this.replay({ state: initialJobState(jobId), position: 0, commands: new Map() }, await this.store.readJob(jobId));
    return this.keep(job);
  }

  /** The job as this instance has it in memory, if it does. */
  cached(jobId: string): LoadedJob | undefined {
    return this.jobs.get(jobId);
  }

  /** The job as cached, or a job with no events yet (not kept until something is recorded). */
  cachedOrBlank(jobId: string): LoadedJob {
    return this.jobs.get(jobId) ?? { state: initialJobState(jobId), position: 0, commands: new Map() };
  }

  /** The job brought up to date with the store. */
  async refresh(jobId: string): Promise<LoadedJob> {
    const job = await this.load(jobId);
    const newer = await this.store.readJob(jobId, { afterVersion: job.state.version, afterPosition: job.position });
    return newer.length === 0 ? job : this.keep(this.replay(job, newer));
  }

  /** Records a commit this instance just appended. */
  record(job: LoadedJob, events: UnpositionedJobEvent[], position: number): LoadedJob {
    // The decider's fresh events: they take their position in place.
    for (const event of events) (event as JobEvent).position = position;
    return this.keep(this.replay(job, events as JobEvent[]));
  }

  forget(jobId: string): void {
    this.jobs.delete(jobId);
  }

  private replay(job: LoadedJob, events: JobEvent[]): LoadedJob {
    let { state, position } = job;
    const commands = job.commands;
    for (const event of events) {
      state = evolve(state, event);
      position = event.position;
      // The last event of a commit overwrites the reply of its first: the reply shows the end state.
      commands.set(event.commandId, {
        reply: { ok: true, jobId: state.jobId, version: state.version, position, status: state.status! },
        digest: event.commandDigest,
      });
    }
    return { state, position, commands };
  }

  private keep(job: LoadedJob): LoadedJob {
    this.jobs.set(job.state.jobId, job);
    return job;
  }
}
