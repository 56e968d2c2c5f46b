import type Database from 'better-sqlite3';

/** Below this many jobs every plan is fast: the planner needs no statistics yet. */
const MIN_JOBS_TO_ANALYZE = 1000;

/**
 * The query planner's statistics of the jobs table, from which it picks the index of the most
 * selective filter (a status over a kind, say). Gathering them is O(jobs), so it is done again as
 * their number doubles.
 */
export class PlannerStatistics {
  private jobCount: number;
  /** Number of jobs when the statistics were last gathered. */
  private analyzedJobCount: number;

  constructor(private readonly connection: Database.Database) {
    // The kept counts add up to every job: no walk of the jobs table at start-up.
    this.jobCount = connection.prepare<[], number>('SELECT coalesce(sum(jobs), 0) FROM job_counts').pluck().get()!;
    const hasStatistics = connection.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").get() !== undefined;
    const statistics = hasStatistics
      ? connection.prepare<[], string>("SELECT stat FROM sqlite_stat1 WHERE tbl = 'jobs' LIMIT 1").pluck().get()
      : undefined;
    this.analyzedJobCount = statistics === undefined ? 0 : Number.parseInt(statistics, 10);
  }

  /** Counts the jobs a batch created. */
  addJobs(newJobs: number): void {
    this.jobCount += newJobs;
  }

  /** Gathers the statistics again once the jobs have doubled since they were last gathered. */
  refreshIfOutgrown(): void {
    if (this.jobCount >= Math.max(MIN_JOBS_TO_ANALYZE, 2 * this.analyzedJobCount)) this.gather();
  }

  gather(): void {
    this.connection.exec('ANALYZE jobs');
    this.analyzedJobCount = this.jobCount;
  }
}
