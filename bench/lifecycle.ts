import type { NatsConnection } from '@nats-io/nats-core';
import { request, timedLoops, type Measurement } from './bench-support.js';

/**
 * The commands of one job's life after `create`, as an executor and an operator send them: the
 * executor claims the started job, so that Pause waits for its mark-paused.
 */
export const LIFECYCLE: [string, Record<string, unknown>][] = [
  ['start', {}],
  ['claim', { executor: 'bench-executor' }],
  ['progress', { processed: 100, total: 1000 }],
  ['log', { level: 'info', message: 'batch 1 loaded' }],
  ['progress', { processed: 400, total: 1000 }],
  ['pause', {}],
  ['mark-paused', {}],
  ['start', {}],
  ['progress', { processed: 700, total: 1000 }],
  ['reject', { records: [{ line: 712, reason: 'invalid email', record: { email: 'nope' } }] }],
  ['progress', { processed: 1000, total: 1000 }],
  ['finish', { processed: 1000, total: 1000 }],
];

/** The status a job has at the end of LIFECYCLE. */
export const LIFECYCLE_FINAL_STATUS = 'finished';

/**
 * `jobs` concurrent loops, each driving one job after another through `create` and LIFECYCLE as
 * plain NATS requests with command ids, for `seconds`; `onJob` hears of each job once its last command is answered.
 */
export function serviceCommands(
  nc: NatsConnection,
  prefix: string,
  round: string,
  options: { jobs: number; seconds: number; name?: string; onJob?: (jobId: string) => void },
): Promise<Measurement> {
  let jobs = 0;
  return timedLoops(options.name ?? 'service commands', options.jobs, options.seconds, async (worker, timed) => {
    const key = `${round}-${jobs++}`;
    const create = { label: `bench job ${key}`, kind: 'import', actor: `worker-${worker}`, commandId: `${key}-0` };
    const { jobId } = await timed(() => request(nc, `${prefix}.cmd.create`, create));
    for (const [index, [name, extra]] of LIFECYCLE.entries()) {
      await timed(() => request(nc, `${prefix}.cmd.${name}`, { jobId, commandId: `${key}-${index + 1}`, ...extra }));
    }
    options.onJob?.(jobId);
  });
}
