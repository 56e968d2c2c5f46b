import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { CommandOkReply, EncodedJobEventCommit, UnpositionedJobEvent } from '#contracts';
import { checkCommit, evolve, initialJobState, type JobState } from '#domain';
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
  /** The job as its valid commits make it. */
  state: JobState;
  /**
   * Position of the job's last commit, one that failed its check included (0 for a job with none):
   * what the next append expects to follow.
   */
  position: number;
  /** The commands stored on the job's events, by command id. */
  commands: Map<string, StoredCommand>;
}

/** How many jobs stay in memory; the expected-position check keeps a cached job honest. */
const MAX_CACHED_JOBS = 20_000;

/**
 * Loads jobs from the event store and keeps recent ones in memory. Commands on one job run one at
 * a time in this instance; other instances are kept out by the store's expected-position check.
 * Each commit read is checked (`checkCommit`): one that fails is quarantined, skipped, and the job
 * goes on from its last valid state.
 */
@Injectable()
export class JobRepository {
  private readonly logger = new Logger(JobRepository.name);
  /** The jobs this instance handled most recently. */
  private readonly jobs = new LRUCache<string, LoadedJob>({ max: MAX_CACHED_JOBS });
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Positions of the commits this process quarantined: each is logged once, however often its job is read. */
  private readonly quarantined = new Set<number>();

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
    return this.keep(this.replay(blank(jobId), await this.store.readJob(jobId)));
  }

  /** The job as this instance has it in memory, if it does. */
  cached(jobId: string): LoadedJob | undefined {
    return this.jobs.get(jobId);
  }

  /** The job as cached, or a job with no events yet (not kept until something is recorded). */
  cachedOrBlank(jobId: string): LoadedJob {
    return this.jobs.get(jobId) ?? blank(jobId);
  }

  /** The job brought up to date with the store. */
  async refresh(jobId: string): Promise<LoadedJob> {
    const job = await this.load(jobId);
    const newer = await this.store.readJob(jobId, { afterPosition: job.position });
    return newer.length === 0 ? job : this.keep(this.replay(job, newer));
  }

  /** Records a commit this instance just appended: the decider's own events, not checked again. */
  record(job: LoadedJob, events: UnpositionedJobEvent[], position: number): LoadedJob {
    return this.keep(remember(job.commands, events, events.reduce(evolve, job.state), position));
  }

  forget(jobId: string): void {
    this.jobs.delete(jobId);
  }

  private replay(job: LoadedJob, commits: EncodedJobEventCommit[]): LoadedJob {
    let { state } = job;
    for (const commit of commits) {
      const checked = checkCommit(state, commit);
      if (checked.ok) {
        remember(job.commands, checked.events, checked.state, commit.position);
        state = checked.state;
      } else if (!this.quarantined.has(commit.position)) {
        this.quarantined.add(commit.position);
        this.logger.warn(
          `quarantined the commit at position ${commit.position} on job ${commit.jobId}'s subject, skipped: ${checked.reason}`,
        );
      }
    }
    return { state, position: commits.at(-1)?.position ?? job.position, commands: job.commands };
  }

  private keep(job: LoadedJob): LoadedJob {
    this.jobs.set(job.state.jobId, job);
    return job;
  }
}

function blank(jobId: string): LoadedJob {
  return { state: initialJobState(jobId), position: 0, commands: new Map() };
}

/** The job after a valid commit: each command on its events earned a reply that shows the commit's end state. */
function remember(commands: LoadedJob['commands'], events: UnpositionedJobEvent[], state: JobState, position: number): LoadedJob {
  const reply: CommandOkReply = { ok: true, jobId: state.jobId, version: state.version, position, status: state.status! };
  for (const event of events) commands.set(event.commandId, { reply, digest: event.commandDigest });
  return { state, position, commands };
}
