import type { CommandBody, CommandName, EncodedJobEventCommit, JobEventCommit } from '#contracts';
import { decide, evolve, initialJobState, type CommandContext, type JobCommand, type JobState } from '#domain';

export const T0 = Date.parse('2024-03-01T09:00:00.000Z');

/**
 * An event store in memory for tests: commands are decided by the real domain on each job's state
 * and stored as commits at increasing positions, the n-th command at T0 + n seconds.
 */
export class JobStreams {
  readonly commits: JobEventCommit[] = [];
  /** Messages put on a job's subject by hand, by position: what the service never wrote. */
  private readonly forged: EncodedJobEventCommit[] = [];
  private readonly states = new Map<string, JobState>();
  private commandCount = 0;
  private lastPosition = 0;

  run<N extends CommandName>(name: N, body: CommandBody<N>, context: Partial<CommandContext> = {}): JobEventCommit {
    const jobId = body.jobId!;
    const state = this.state(jobId);
    const n = ++this.commandCount;
    const decision = decide(
      { name, body } as JobCommand,
      {
        jobId,
        commandId: `cmd-${n}`,
        actor: 'alice',
        actorAuthenticated: false,
        at: new Date(T0 + n * 1000).toISOString(),
        correlationId: `corr-${n}`,
        causationId: `cause-${n}`,
        ...context,
      },
      state,
    );
    if (!decision.ok) throw new Error(`${name} on ${jobId} refused: ${decision.error.message}`);
    if (decision.events.length === 0) throw new Error(`${name} on ${jobId} is a no-op`);
    const position = ++this.lastPosition;
    const commit: JobEventCommit = { position, jobId, events: decision.events.map((event) => ({ ...event, position })) };
    this.states.set(jobId, commit.events.reduce(evolve, state));
    this.commits.push(commit);
    return commit;
  }

  /** Stores a message at the next position on a job's subject, as any client could publish one: it changes no job. */
  forge(jobId: string, events: string, version: number | null): EncodedJobEventCommit {
    const commit = { position: ++this.lastPosition, jobId, version, events };
    this.forged.push(commit);
    return commit;
  }

  /** Every commit, forged ones included, as the event store hands them over. */
  get stored(): EncodedJobEventCommit[] {
    return [...this.commits.map(encodeCommit), ...this.forged].sort((a, b) => a.position - b.position);
  }

  /** The job's state as the domain makes it from its events. */
  state(jobId: string): JobState {
    return this.states.get(jobId) ?? initialJobState(jobId);
  }
}

/** A commit as the event store hands it over: on its job's subject, with its Job-Version, its events as JSON without their position. */
export function encodeCommit({ position, jobId, events }: JobEventCommit): EncodedJobEventCommit {
  return { position, jobId, version: events.at(-1)!.version, events: JSON.stringify(events.map(({ position: _, ...event }) => event)) };
}
