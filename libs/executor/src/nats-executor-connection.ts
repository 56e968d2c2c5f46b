import { jetstreamManager } from '@nats-io/jetstream';
import { isJobsError, JobsClient, type JobsClientOptions, type JobsConnectionOptions } from '#client';
import { DEFAULT_SUBJECT_PREFIX, jobSubjects, type CommandName, type JobKind } from '#contracts';
import { loadedJob, type ExecutorConnection } from './executor-connection.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from './in-memory-jobs.js';

export interface NatsExecutorOptions extends JobsConnectionOptions, Omit<JobsClientOptions, 'subjectPrefix' | 'stream'> {
  /** The service's JOBS_SUBJECT_PREFIX: `jobs` by default. */
  subjectPrefix?: string;
  /** The service's JOBS_STREAM: `JOBS` by default. */
  stream?: string;
  /** The service's JOBS_MAX_PAYLOAD_BYTES (256 KiB by default): reject commands are split to fit it. */
  maxPayloadBytes?: number;
}

/** Room the NATS server keeps under its max_payload for a request's envelope, as the service requires. */
const SERVER_PAYLOAD_MARGIN = 8 * 1024;
/** Most waiting jobs one scan takes: the next scan takes the others. */
const SCAN_LIMIT = 500;

/** Connects to NATS as the SDK does (#client) and speaks to the service for an executor; `close` closes the connection. */
export async function connectExecutor(options: NatsExecutorOptions = {}): Promise<ExecutorConnection> {
  const client = await JobsClient.connect(options);
  return natsExecutorConnection(client, options, true);
}

/** An executor's connection over a JobsClient; `close` closes the client's connection only when `owned`. */
export function natsExecutorConnection(client: JobsClient, options: NatsExecutorOptions = {}, owned = false): ExecutorConnection {
  const subjects = jobSubjects(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const stream = options.stream ?? 'JOBS';
  const serverLimit = client.nc.info ? client.nc.info.max_payload - SERVER_PAYLOAD_MARGIN : Number.POSITIVE_INFINITY;
  return {
    maxPayloadBytes: Math.min(options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES, serverLimit),
    async send(name, body) {
      try {
        const reply = await client.command(name as CommandName, body as never);
        return { ok: true, status: reply.status, position: reply.position };
      } catch (error) {
        if (isJobsError(error)) return { ok: false, error: error.error };
        throw error;
      }
    },
    async loadJob(jobId, minPosition) {
      try {
        const reply = await client.history({ jobId, limit: 1, ...(minPosition === undefined ? {} : { minPosition }) });
        return reply.state === null ? null : loadedJob(reply.state);
      } catch (error) {
        if (isJobsError(error, 'JOB_NOT_FOUND')) return null;
        throw error;
      }
    },
    async waitingJobs(kinds: JobKind[]) {
      const page = await client.list({
        status: 'running',
        ...(kinds.length === 1 ? { kind: kinds[0] } : {}),
        sort: 'createdAt',
        order: 'asc',
        limit: SCAN_LIMIT,
      });
      return page.items.filter((job) => job.executor === null && kinds.includes(job.kind)).map((job) => job.jobId);
    },
    async jobsHeldBy(executor) {
      const page = await client.list({ status: ['running', 'pausing', 'cancelling'], sort: 'createdAt', order: 'asc', limit: SCAN_LIMIT });
      return page.items.filter((job) => job.executor === executor).map((job) => job.jobId);
    },
    async headPosition() {
      return (await (await jetstreamManager(client.nc)).streams.info(stream)).state.last_seq;
    },
    followEvents(fromPosition, signal) {
      return client.watchAll({ fromPosition, signal });
    },
    heartbeat(beat) {
      client.nc.publish(subjects.executorHeartbeat(beat.executor), JSON.stringify(beat));
    },
    async close() {
      if (owned) await client.close();
    },
  };
}
