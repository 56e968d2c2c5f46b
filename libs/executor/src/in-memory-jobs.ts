import { randomUUID } from 'node:crypto';
import {
  commandSchemas,
  EXECUTING_JOB_STATUSES,
  type CommandName,
  type ExecutorHeartbeat,
  type JobError,
  type JobEvent,
  type JobKind,
  type UnpositionedJobEvent,
} from '#contracts';
import { decide, evolve, initialJobState, type JobCommand, type JobState } from '#domain';
import { loadedJob, type CommandResult, type ExecutorConnection } from './executor-connection.js';

/** The service's default JOBS_MAX_PAYLOAD_BYTES. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * The job-tracking service in one process's memory, for unit tests of executors: commands are
 * validated with the API's schemas and decided by the real decider over an in-memory list of events;
 * a command id applied once is answered with its first reply. No NATS, no read models, no lease
 * monitor: a test plays the operator (`command`) and reads the jobs (`job`, `events`, `heartbeats`).
 */
export class InMemoryJobs {
  readonly events: JobEvent[] = [];
  readonly heartbeats: ExecutorHeartbeat[] = [];
  private readonly states = new Map<string, JobState>();
  private readonly replies = new Map<string, CommandResult>();
  private readonly waiters = new Set<() => void>();
  private position = 0;

  constructor(readonly maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES) {}

  /** Applies a command as the service would; the reply as a value. */
  command(name: CommandName, body: Record<string, unknown>): CommandResult {
    const size = Buffer.byteLength(JSON.stringify(body));
    if (size > this.maxPayloadBytes) {
      return fail({ code: 'PAYLOAD_TOO_LARGE', message: `the body is ${size} bytes`, size, limit: this.maxPayloadBytes });
    }
    const parsed = commandSchemas[name].safeParse(body);
    if (!parsed.success) {
      return fail({
        code: 'VALIDATION_FAILED',
        message: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
      });
    }
    const valid = parsed.data as Record<string, unknown> & { jobId?: string; commandId?: string; actor?: string };
    const jobId = valid.jobId ?? randomUUID();
    const commandId = valid.commandId ?? randomUUID();
    const key = `${jobId}:${commandId}`;
    const earlier = this.replies.get(key);
    if (earlier) return earlier;
    const state = this.states.get(jobId) ?? initialJobState(jobId);
    const decision = decide({ name, body: valid } as JobCommand, this.context(jobId, commandId, valid.actor), state);
    if (!decision.ok) return { ok: false, error: decision.error };
    if (decision.events.length === 0) return { ok: true, status: state.status!, position: this.lastPosition(jobId) };
    const position = this.append(state, decision.events);
    const result: CommandResult = { ok: true, status: this.states.get(jobId)!.status!, position };
    this.replies.set(key, result);
    return result;
  }

  /** A job's state now; undefined when it does not exist. */
  job(jobId: string): JobState | undefined {
    return this.states.get(jobId);
  }

  eventsOf(jobId: string): JobEvent[] {
    return this.events.filter((event) => event.jobId === jobId);
  }

  /** An executor's connection to these jobs. */
  connection(): ExecutorConnection {
    return {
      maxPayloadBytes: this.maxPayloadBytes,
      send: async (name, body) => this.command(name, body as Record<string, unknown>),
      loadJob: async (jobId) => {
        const state = this.states.get(jobId);
        // A state is kept from the job's Created on: its kind, label and status are set.
        return state ? loadedJob({ ...state, kind: state.kind!, label: state.label!, status: state.status! }) : null;
      },
      waitingJobs: async (kinds) =>
        [...this.states.values()]
          .filter((state) => state.status === 'running' && state.executor === null && kinds.includes(state.kind as JobKind))
          .map((state) => state.jobId),
      jobsHeldBy: async (executor) =>
        [...this.states.values()]
          .filter((state) => state.executor === executor && EXECUTING_JOB_STATUSES.has(state.status!))
          .map((state) => state.jobId),
      headPosition: async () => this.position,
      followEvents: (afterPosition, signal) => this.follow(afterPosition, signal),
      heartbeat: (beat) => {
        this.heartbeats.push(beat);
      },
      close: async () => undefined,
    };
  }

  private context(jobId: string, commandId: string, actor: string | undefined) {
    return {
      jobId,
      commandId,
      actor: actor ?? 'anonymous',
      actorAuthenticated: false,
      at: new Date().toISOString(),
      correlationId: commandId,
      causationId: commandId,
    };
  }

  private append(state: JobState, events: UnpositionedJobEvent[]): number {
    const position = ++this.position;
    let next = state;
    for (const event of events) {
      next = evolve(next, event);
      this.events.push({ ...event, position } as JobEvent);
    }
    this.states.set(state.jobId, next);
    for (const wake of [...this.waiters]) wake();
    return position;
  }

  private lastPosition(jobId: string): number {
    return this.events.findLast((event) => event.jobId === jobId)?.position ?? 0;
  }

  private async *follow(afterPosition: number, signal: AbortSignal): AsyncGenerator<JobEvent> {
    let index = this.events.findIndex((event) => event.position > afterPosition);
    if (index < 0) index = this.events.length;
    while (!signal.aborted) {
      if (index < this.events.length) {
        yield this.events[index++]!;
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }
}

function fail(error: JobError): CommandResult {
  return { ok: false, error };
}
