import { EXECUTING_JOB_STATUSES, type JobStatus, type UnpositionedJobEvent } from '#contracts';

/** A claim the monitor watches: the job is `executor`'s while it hears the executor within `leaseMs`. */
export interface WatchedClaim {
  jobId: string;
  executor: string;
  leaseMs: number;
  /** The job's version once claimed: names the claim, so that a shutdown for it is sent once. */
  claimVersion: number;
  /** When the monitor learnt of the claim: a full lease from then, whether or not it has heard the executor yet. */
  knownAt: number;
}

/** A claim whose executor has not been heard for its lease. */
export interface ExpiredClaim extends WatchedClaim {
  /** When the executor was last heard, or the claim learnt of, whichever came later. */
  lastHeardAt: number;
}

/** Events after which no executor holds the job (see `evolve` in #domain). */
const RELEASING: ReadonlySet<string> = new Set(['Started', 'Paused', 'Cancelled', 'Finished', 'Errored', 'ServerShutdown']);

/**
 * Pure bookkeeping of the executors' claims and heartbeats, with the time passed in: which claims
 * are held, when each executor was last heard, which claims expired. What it learns comes from two
 * sources, in any order: the events as they are appended, and the read side's list of executing
 * jobs at startup; for each job the later version wins.
 */
export class ExecutorLeases {
  private readonly claims = new Map<string, WatchedClaim>();
  /**
   * Until the list is read, the last version of each job the events told of, so that an older
   * listing does not undo what they said; null once it is read.
   */
  private versions: Map<string, number> | null = new Map();
  private readonly heard = new Map<string, number>();

  /** An event appended to the job: a claim, or the end of one. */
  applyEvent(event: Pick<UnpositionedJobEvent, 'jobId' | 'version' | 'type' | 'data'>, now: number): void {
    if (event.type === 'Claimed') {
      const { executor, leaseMs } = event.data as { executor: string; leaseMs: number };
      this.claims.set(event.jobId, { jobId: event.jobId, executor, leaseMs, claimVersion: event.version, knownAt: now });
    } else if (RELEASING.has(event.type)) {
      this.claims.delete(event.jobId);
    } else {
      return;
    }
    if (this.versions && (this.versions.get(event.jobId) ?? 0) < event.version) this.versions.set(event.jobId, event.version);
  }

  /** A job as the read side listed it at startup: its claim, unless the events told of a later version. */
  applyListed(
    job: { jobId: string; status: JobStatus; executor: string | null; leaseMs: number | null; version: number },
    now: number,
  ): void {
    if (!this.versions || (this.versions.get(job.jobId) ?? 0) >= job.version) return;
    if (job.executor === null || job.leaseMs === null || !EXECUTING_JOB_STATUSES.has(job.status)) {
      this.claims.delete(job.jobId);
      return;
    }
    // The claim's own version is not listed; the job's identifies this claim just as well.
    this.claims.set(job.jobId, { jobId: job.jobId, executor: job.executor, leaseMs: job.leaseMs, claimVersion: job.version, knownAt: now });
  }

  /** The list is read: from now on the events alone tell. */
  listed(): void {
    this.versions = null;
  }

  /** A heartbeat of the executor. */
  heardFrom(executor: string, now: number): void {
    this.heard.set(executor, now);
  }

  /** The claims whose executor has not been heard for their lease, as of `now`. */
  expired(now: number): ExpiredClaim[] {
    const expired: ExpiredClaim[] = [];
    for (const claim of this.claims.values()) {
      const lastHeardAt = Math.max(claim.knownAt, this.heard.get(claim.executor) ?? 0);
      if (now - lastHeardAt > claim.leaseMs) expired.push({ ...claim, lastHeardAt });
    }
    return expired;
  }

  /** Stops watching a claim, once its job was shut down or the shutdown was refused: the events say what came of it. */
  forget(claim: Pick<WatchedClaim, 'jobId' | 'claimVersion'>): void {
    if (this.claims.get(claim.jobId)?.claimVersion === claim.claimVersion) this.claims.delete(claim.jobId);
  }

  /** The claims watched, for tests and logs. */
  held(): WatchedClaim[] {
    return [...this.claims.values()];
  }
}
