/** Subjects and headers of API version 1; `prefix` defaults to "jobs". */
export const DEFAULT_SUBJECT_PREFIX = 'jobs';

export function jobSubjects(prefix = DEFAULT_SUBJECT_PREFIX) {
  return {
    prefix,
    command: (name: string) => `${prefix}.cmd.${name}`,
    query: (name: string) => `${prefix}.query.${name}`,
    /** Every job's events. */
    allEvents: `${prefix}.events.>`,
    /** One job's events. */
    jobEvents: (jobId: string) => `${prefix}.events.${jobId}`,
    /** Where an executor says it is alive, core NATS (README, "Executors"). */
    executorHeartbeat: (executorId: string) => `${prefix}.executors.heartbeat.${executorId}`,
    /** Every executor's heartbeats. */
    allExecutorHeartbeats: `${prefix}.executors.heartbeat.*`,
  };
}

export type JobSubjects = ReturnType<typeof jobSubjects>;

/**
 * Headers on every message of the events stream. One message is one commit: the events that one
 * command produced, appended atomically (README, "Events").
 */
export const EVENT_HEADERS = {
  /** Event types of the commit, in order, comma-separated ("RecordsRejected,Errored"). */
  type: 'Job-Event-Type',
  jobId: 'Job-Id',
  /** The job's version after the commit (the version of its last event). */
  version: 'Job-Version',
} as const;
