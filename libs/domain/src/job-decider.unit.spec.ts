import { describe, expect, it } from 'vitest';
import {
  COMMAND_NAMES,
  EVENT_SCHEMA_VERSION,
  JOB_STATUSES,
  REJECT_LIMIT_ERROR_CODE,
  type CommandBody,
  type CommandName,
  type JobEventType,
  type JobStatus,
  type RejectPolicy,
  type UnpositionedJobEvent,
} from '#contracts';
import { decide, type CommandContext, type Decision, type JobCommand } from './job-decider.js';
import { evolve, initialJobState, replayJob, type JobState } from './job-state.js';

const JOB_ID = 'job-1';
const T0 = Date.parse('2024-03-01T09:00:00.000Z');
/** The n-th command of a job is decided n seconds after T0, so every time in a history is distinct. */
const timeOf = (n: number) => new Date(T0 + n * 1000).toISOString();

/** A valid body for each command; tests override the fields they are about. */
const SAMPLE_BODIES: { [N in CommandName]: (jobId: string) => CommandBody<N> } = {
  create: (jobId) => ({ jobId, label: 'Contacts import', kind: 'import' }),
  update: (jobId) => ({ jobId, label: 'Contacts import (March)' }),
  start: (jobId) => ({ jobId }),
  pause: (jobId) => ({ jobId }),
  'mark-paused': (jobId) => ({ jobId }),
  cancel: (jobId) => ({ jobId }),
  'mark-cancelled': (jobId) => ({ jobId }),
  finish: (jobId) => ({ jobId, processed: 10, total: 10 }),
  fail: (jobId) => ({ jobId, error: { message: 'the source file cannot be read', code: 'EIO' } }),
  shutdown: (jobId) => ({ jobId, reason: 'deployment' }),
  progress: (jobId) => ({ jobId, processed: 5, total: 10 }),
  log: (jobId) => ({ jobId, level: 'info', message: 'reading the source file' }),
  reject: (jobId) => ({ jobId, records: rejectedRecords(1) }),
};

function command<N extends CommandName>(name: N, overrides: Partial<CommandBody<N>> = {}): JobCommand {
  return { name, body: { ...SAMPLE_BODIES[name](JOB_ID), ...overrides } } as JobCommand;
}

function rejectedRecords(count: number, firstLine = 2): CommandBody<'reject'>['records'] {
  return Array.from({ length: count }, (_, i) => ({
    line: firstLine + i,
    reason: 'invalid email',
    record: { email: `not-an-email-${i}` },
  }));
}

/** One job driven as the command handler drives it: decide on the current state, then evolve. */
class JobHarness {
  state: JobState = initialJobState(JOB_ID);
  readonly events: UnpositionedJobEvent[] = [];
  /** The state after each version: statesByVersion[v]. */
  readonly statesByVersion: JobState[] = [this.state];
  private commandCount = 0;

  /** The context of the next command: fresh ids and a later time. */
  nextContext(overrides: Partial<CommandContext> = {}): CommandContext {
    const n = ++this.commandCount;
    return {
      jobId: JOB_ID,
      commandId: `cmd-${n}`,
      actor: 'alice',
      at: timeOf(n),
      correlationId: `corr-${n}`,
      causationId: `cause-${n}`,
      ...overrides,
    };
  }

  /** Decides without applying, as a refused or no-op command leaves the job. */
  decide(jobCommand: JobCommand, overrides: Partial<CommandContext> = {}): { decision: Decision; context: CommandContext } {
    const context = this.nextContext(overrides);
    return { decision: decide(jobCommand, context, this.state), context };
  }

  /** Decides and applies; the command must be accepted. */
  run(jobCommand: JobCommand, overrides: Partial<CommandContext> = {}): UnpositionedJobEvent[] {
    const { decision } = this.decide(jobCommand, overrides);
    if (!decision.ok) throw new Error(`${jobCommand.name} refused: ${decision.error.message}`);
    for (const event of decision.events) {
      this.state = evolve(this.state, event);
      this.events.push(event);
      this.statesByVersion.push(this.state);
    }
    return decision.events;
  }
}

type Column = 'none' | JobStatus;

/** Commands that bring a new job to each status. */
const PATHS: Record<Column, CommandName[]> = {
  none: [],
  editing: ['create'],
  running: ['create', 'start'],
  pausing: ['create', 'start', 'pause'],
  paused: ['create', 'start', 'pause', 'mark-paused'],
  cancelling: ['create', 'start', 'cancel'],
  cancelled: ['create', 'cancel'],
  finished: ['create', 'start', 'finish'],
  finished_with_error: ['create', 'start', 'fail'],
  server_shutdown: ['create', 'start', 'shutdown'],
};

function jobIn(column: Column, rejectPolicy?: RejectPolicy): JobHarness {
  const job = new JobHarness();
  for (const name of PATHS[column]) job.run(name === 'create' && rejectPolicy ? command('create', { rejectPolicy }) : command(name));
  expect(job.state.status).toBe(column === 'none' ? null : column);
  return job;
}

type Outcome = { events: JobEventType[]; status: JobStatus } | 'NO_OP' | 'INVALID_TRANSITION' | 'JOB_NOT_FOUND' | 'JOB_EXISTS';
const NO_OP = 'NO_OP';
const INVALID = 'INVALID_TRANSITION';
const NOT_FOUND = 'JOB_NOT_FOUND';
const EXISTS = 'JOB_EXISTS';
const to = (status: JobStatus, ...events: JobEventType[]): Outcome => ({ events, status });

/** The spec's transitions, written out: every command in every status (with one rejected record for `reject`). */
const EXPECTED: Record<CommandName, Record<Column, Outcome>> = {
  create: {
    none: to('editing', 'Created'),
    editing: EXISTS,
    running: EXISTS,
    pausing: EXISTS,
    paused: EXISTS,
    cancelling: EXISTS,
    cancelled: EXISTS,
    finished: EXISTS,
    finished_with_error: EXISTS,
    server_shutdown: EXISTS,
  },
  update: {
    none: NOT_FOUND,
    editing: to('editing', 'DefinitionUpdated'),
    running: INVALID,
    pausing: INVALID,
    paused: INVALID,
    cancelling: INVALID,
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: INVALID,
  },
  start: {
    none: NOT_FOUND,
    editing: to('running', 'Started'),
    running: NO_OP,
    pausing: INVALID,
    paused: to('running', 'Started'),
    cancelling: INVALID,
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: to('running', 'Started'),
  },
  pause: {
    none: NOT_FOUND,
    editing: INVALID,
    running: to('pausing', 'PauseRequested'),
    pausing: NO_OP,
    paused: NO_OP,
    cancelling: INVALID,
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: INVALID,
  },
  'mark-paused': {
    none: NOT_FOUND,
    editing: INVALID,
    running: INVALID,
    pausing: to('paused', 'Paused'),
    paused: NO_OP,
    cancelling: INVALID,
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: INVALID,
  },
  cancel: {
    none: NOT_FOUND,
    editing: to('cancelled', 'Cancelled'),
    running: to('cancelling', 'CancellationRequested'),
    pausing: to('cancelling', 'CancellationRequested'),
    paused: to('cancelled', 'Cancelled'),
    cancelling: NO_OP,
    cancelled: NO_OP,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: to('cancelled', 'Cancelled'),
  },
  'mark-cancelled': {
    none: NOT_FOUND,
    editing: INVALID,
    running: INVALID,
    pausing: INVALID,
    paused: INVALID,
    cancelling: to('cancelled', 'Cancelled'),
    cancelled: NO_OP,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: INVALID,
  },
  finish: {
    none: NOT_FOUND,
    editing: INVALID,
    running: to('finished', 'Finished'),
    pausing: to('finished', 'Finished'),
    paused: INVALID,
    cancelling: to('finished', 'Finished'),
    cancelled: INVALID,
    finished: NO_OP,
    finished_with_error: INVALID,
    server_shutdown: INVALID,
  },
  fail: {
    none: NOT_FOUND,
    editing: INVALID,
    running: to('finished_with_error', 'Errored'),
    pausing: to('finished_with_error', 'Errored'),
    paused: INVALID,
    cancelling: to('finished_with_error', 'Errored'),
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: NO_OP,
    server_shutdown: INVALID,
  },
  shutdown: {
    none: NOT_FOUND,
    editing: INVALID,
    running: to('server_shutdown', 'ServerShutdown'),
    pausing: to('server_shutdown', 'ServerShutdown'),
    paused: INVALID,
    cancelling: to('server_shutdown', 'ServerShutdown'),
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: NO_OP,
  },
  progress: {
    none: NOT_FOUND,
    editing: INVALID,
    running: to('running', 'ProgressReported'),
    pausing: to('pausing', 'ProgressReported'),
    paused: INVALID,
    cancelling: to('cancelling', 'ProgressReported'),
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: INVALID,
  },
  log: {
    none: NOT_FOUND,
    editing: to('editing', 'MessageLogged'),
    running: to('running', 'MessageLogged'),
    pausing: to('pausing', 'MessageLogged'),
    paused: to('paused', 'MessageLogged'),
    cancelling: to('cancelling', 'MessageLogged'),
    cancelled: to('cancelled', 'MessageLogged'),
    finished: to('finished', 'MessageLogged'),
    finished_with_error: to('finished_with_error', 'MessageLogged'),
    server_shutdown: to('server_shutdown', 'MessageLogged'),
  },
  reject: {
    none: NOT_FOUND,
    editing: INVALID,
    running: to('running', 'RecordsRejected'),
    pausing: to('pausing', 'RecordsRejected'),
    paused: INVALID,
    cancelling: to('cancelling', 'RecordsRejected'),
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: INVALID,
  },
};

const METADATA_KEYS = [
  'actor',
  'at',
  'causationId',
  'commandId',
  'correlationId',
  'data',
  'eventId',
  'jobId',
  'schemaVersion',
  'type',
  'version',
];

/** Every event carries the command's metadata and the next contiguous version of the job. */
function expectMetadata(events: UnpositionedJobEvent[], previousVersion: number, context: CommandContext): void {
  events.forEach((event, index) => {
    const version = previousVersion + index + 1;
    expect(Object.keys(event).sort()).toEqual(METADATA_KEYS);
    expect(event).toMatchObject({
      eventId: `${context.jobId}:${version}`,
      schemaVersion: EVENT_SCHEMA_VERSION,
      jobId: context.jobId,
      version,
      at: context.at,
      commandId: context.commandId,
      correlationId: context.correlationId,
      causationId: context.causationId,
      actor: context.actor,
    });
  });
}

function describeOutcome(outcome: Outcome): string {
  if (typeof outcome === 'string') return outcome;
  return `${outcome.events.join(', ')} -> ${outcome.status}`;
}

const COLUMNS: Column[] = ['none', ...JOB_STATUSES];

describe('job decider: every command in every status', () => {
  it('covers every command and every status', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...COMMAND_NAMES].sort());
    for (const row of Object.values(EXPECTED)) expect(Object.keys(row).sort()).toEqual([...COLUMNS].sort());
  });

  const cases = COMMAND_NAMES.flatMap((name) =>
    COLUMNS.map((column) => ({ name, column, outcome: EXPECTED[name][column], label: describeOutcome(EXPECTED[name][column]) })),
  );

  it.each(cases)('$name while $column: $label', ({ name, column, outcome }) => {
    const job = jobIn(column);
    const before = job.state;
    const { decision, context } = job.decide(command(name));

    if (outcome === NO_OP) {
      expect(decision).toEqual({ ok: true, events: [] });
    } else if (outcome === INVALID) {
      expect(decision).toEqual({
        ok: false,
        error: { code: 'INVALID_TRANSITION', status: column, command: name, message: expect.stringMatching(new RegExp(`\\b${column}\\b`)) },
      });
    } else if (outcome === NOT_FOUND || outcome === EXISTS) {
      expect(decision).toEqual({ ok: false, error: { code: outcome, message: expect.stringContaining(JOB_ID) } });
    } else {
      if (!decision.ok) throw new Error(`expected ${describeOutcome(outcome)}, got ${decision.error.code}: ${decision.error.message}`);
      expect(decision.events.map((event) => event.type)).toEqual(outcome.events);
      expectMetadata(decision.events, before.version, context);
      const after = decision.events.reduce(evolve, before);
      expect(after.status).toBe(outcome.status);
      expect(after.version).toBe(before.version + outcome.events.length);
    }
  });

  it('records the status a job was started or cancelled from', () => {
    for (const from of ['editing', 'paused', 'server_shutdown'] as const) {
      expect(jobIn(from).run(command('start'))[0]!.data).toEqual({ previousStatus: from });
      expect(jobIn(from).run(command('cancel'))[0]!.data).toEqual({ previousStatus: from });
    }
    expect(jobIn('cancelling').run(command('mark-cancelled'))[0]!.data).toEqual({ previousStatus: 'cancelling' });
  });

  it('puts the command body into the events', () => {
    const job = jobIn('none');
    expect(job.run(command('create', { definition: { file: 'contacts.csv' } }))[0]!.data).toEqual({
      label: 'Contacts import',
      kind: 'import',
      definition: { file: 'contacts.csv' },
      rejectPolicy: { maxRejects: 100 },
    });
    expect(job.run(command('update', { label: undefined, definition: { file: 'march.csv' } }))[0]!.data).toEqual({
      definition: { file: 'march.csv' },
    });
    job.run(command('start'));
    expect(job.run(command('progress', { processed: 3, total: undefined }))[0]!.data).toEqual({ processed: 3 });
    expect(job.run(command('log', { level: 'warning', message: 'slow source' }))[0]!.data).toEqual({
      level: 'warning',
      message: 'slow source',
    });
    expect(job.run(command('reject', { records: rejectedRecords(2) }))[0]!.data).toEqual({ records: rejectedRecords(2), rejectedTotal: 2 });
    expect(job.run(command('shutdown', { reason: undefined }))[0]!.data).toEqual({});
    job.run(command('start'));
    expect(job.run(command('fail', { error: { message: 'out of memory' } }))[0]!.data).toEqual({ error: { message: 'out of memory' } });
  });

  it('changes neither the state nor the command it is given', () => {
    const job = jobIn('running');
    const state = structuredClone(job.state);
    const reject = command('reject', { records: rejectedRecords(101) });
    const body = structuredClone(reject.body);
    const { decision } = job.decide(reject);
    expect(decision.ok).toBe(true);
    if (decision.ok) decision.events.reduce(evolve, job.state);
    expect(job.state).toEqual(state);
    expect(reject.body).toEqual(body);
  });
});

describe('job decider: rejects policy', () => {
  const reject = (job: JobHarness, count: number) =>
    job.run(command('reject', { records: rejectedRecords(count, job.state.rejected + 2) }));

  it('defaults to 100: 100 rejected records keep the job running', () => {
    const job = jobIn('running');
    expect(job.state.rejectPolicy).toEqual({ maxRejects: 100 });
    expect(reject(job, 99).map((event) => event.type)).toEqual(['RecordsRejected']);
    expect(reject(job, 1).map((event) => [event.type, event.data])).toEqual([
      ['RecordsRejected', { records: rejectedRecords(1, 101), rejectedTotal: 100 }],
    ]);
    expect(job.state).toMatchObject({ status: 'running', rejected: 100, lastError: null, endedAt: null });
  });

  it('ends the job finished_with_error on the 101st rejected record, in the same decision', () => {
    const job = jobIn('running');
    reject(job, 100);
    const before = job.state.version;
    const { decision, context } = job.decide(command('reject', { records: rejectedRecords(1, 102) }));
    if (!decision.ok) throw new Error(decision.error.message);
    expect(decision.events.map((event) => event.type)).toEqual(['RecordsRejected', 'Errored']);
    expect(decision.events[0]!.data).toMatchObject({ rejectedTotal: 101 });
    expect(decision.events[1]!.data).toEqual({ error: { code: REJECT_LIMIT_ERROR_CODE, message: expect.stringMatching(/101.*100/) } });
    expectMetadata(decision.events, before, context);
    const after = decision.events.reduce(evolve, job.state);
    expect(after).toMatchObject({
      status: 'finished_with_error',
      version: before + 2,
      rejected: 101,
      endedAt: context.at,
      lastError: { code: REJECT_LIMIT_ERROR_CODE },
    });
  });

  it('ends the job when one batch goes above the limit', () => {
    const job = jobIn('running');
    expect(reject(job, 101).map((event) => event.type)).toEqual(['RecordsRejected', 'Errored']);
    expect(job.state.status).toBe('finished_with_error');
  });

  it.each(['pausing', 'cancelling'] as const)('ends a job that is %s when rejects pass the limit', (status) => {
    const job = jobIn(status);
    expect(reject(job, 101).map((event) => event.type)).toEqual(['RecordsRejected', 'Errored']);
    expect(job.state.status).toBe('finished_with_error');
  });

  it('refuses rejects once the limit has ended the job', () => {
    const job = jobIn('running');
    reject(job, 101);
    expect(job.decide(command('reject')).decision).toMatchObject({
      ok: false,
      error: { code: 'INVALID_TRANSITION', status: 'finished_with_error' },
    });
  });

  it('never stops a job whose maxRejects is null', () => {
    const job = jobIn('running', { maxRejects: null });
    for (let batch = 0; batch < 5; batch++) expect(reject(job, 1000).map((event) => event.type)).toEqual(['RecordsRejected']);
    expect(job.state).toMatchObject({ status: 'running', rejected: 5000 });
  });

  it('stops a job whose maxRejects is 0 on its first rejected record', () => {
    const job = jobIn('running', { maxRejects: 0 });
    expect(reject(job, 1).map((event) => event.type)).toEqual(['RecordsRejected', 'Errored']);
    expect(job.state).toMatchObject({ status: 'finished_with_error', rejected: 1, lastError: { code: REJECT_LIMIT_ERROR_CODE } });
  });

  it('applies a limit set by an update while editing', () => {
    const job = jobIn('editing');
    job.run(command('update', { label: undefined, rejectPolicy: { maxRejects: 5 } }));
    job.run(command('start'));
    expect(reject(job, 5).map((event) => event.type)).toEqual(['RecordsRejected']);
    expect(reject(job, 1).map((event) => event.type)).toEqual(['RecordsRejected', 'Errored']);
  });
});

describe('job decider: expected version', () => {
  it('accepts a command at the expected version', () => {
    const job = jobIn('running');
    expect(job.decide(command('pause'), { expectedVersion: 2 }).decision.ok).toBe(true);
    expect(jobIn('none').decide(command('create'), { expectedVersion: 0 }).decision.ok).toBe(true);
  });

  it.each([1, 3])('refuses a command expecting version %i of a job at version 2', (expectedVersion) => {
    const job = jobIn('running');
    expect(job.decide(command('pause'), { expectedVersion }).decision).toEqual({
      ok: false,
      error: { code: 'CONCURRENCY_CONFLICT', expectedVersion, actualVersion: 2, message: expect.any(String) },
    });
  });

  it('refuses to create a job expected to exist already', () => {
    expect(jobIn('none').decide(command('create'), { expectedVersion: 1 }).decision).toMatchObject({
      ok: false,
      error: { code: 'CONCURRENCY_CONFLICT', expectedVersion: 1, actualVersion: 0 },
    });
  });
});

describe('job decider: event metadata', () => {
  it('copies every command context onto its events, with contiguous versions', () => {
    const job = new JobHarness();
    const contexts: CommandContext[] = [
      { jobId: JOB_ID, commandId: 'c-create', actor: 'alice', at: timeOf(1), correlationId: 'ui-42', causationId: 'c-create' },
      { jobId: JOB_ID, commandId: 'c-start', actor: 'bob', at: timeOf(2), correlationId: 'ui-43', causationId: 'c-start' },
      { jobId: JOB_ID, commandId: 'c-reject', actor: 'executor-7', at: timeOf(3), correlationId: 'ui-43', causationId: 'c-start' },
    ];
    job.run(command('create', { rejectPolicy: { maxRejects: 0 } }), contexts[0]);
    job.run(command('start'), contexts[1]);
    job.run(command('reject'), contexts[2]);

    expect(job.events.map((event) => [event.eventId, event.version, event.type, event.commandId, event.actor])).toEqual([
      [`${JOB_ID}:1`, 1, 'Created', 'c-create', 'alice'],
      [`${JOB_ID}:2`, 2, 'Started', 'c-start', 'bob'],
      [`${JOB_ID}:3`, 3, 'RecordsRejected', 'c-reject', 'executor-7'],
      [`${JOB_ID}:4`, 4, 'Errored', 'c-reject', 'executor-7'],
    ]);
    expectMetadata(job.events.slice(0, 1), 0, contexts[0]!);
    expectMetadata(job.events.slice(1, 2), 1, contexts[1]!);
    expectMetadata(job.events.slice(2), 2, contexts[2]!);
  });
});

describe('evolve: counters and times', () => {
  it('keeps who created the job and when, and when it was last updated', () => {
    const job = jobIn('editing');
    expect(job.state).toEqual({
      ...initialJobState(JOB_ID),
      version: 1,
      status: 'editing',
      label: 'Contacts import',
      kind: 'import',
      createdAt: timeOf(1),
      createdBy: 'alice',
      updatedAt: timeOf(1),
    });
    job.run(command('update', { definition: { file: 'contacts.csv' } }), { actor: 'bob' });
    expect(job.state).toMatchObject({
      label: 'Contacts import (March)',
      definition: { file: 'contacts.csv' },
      rejectPolicy: { maxRejects: 100 },
      createdBy: 'alice',
      createdAt: timeOf(1),
      updatedAt: timeOf(2),
    });
  });

  it('counts progress, rejects and warnings through a run, keeping the first start time', () => {
    const job = jobIn('editing');
    job.run(command('start')); // at timeOf(2)
    job.run(command('progress', { processed: 5, total: 10 }));
    expect(job.state).toMatchObject({ startedAt: timeOf(2), processed: 5, total: 10, warning: false });
    job.run(command('progress', { processed: 7, total: undefined }));
    expect(job.state).toMatchObject({ processed: 7, total: 10 });
    job.run(command('log', { level: 'info' }));
    expect(job.state.warning).toBe(false);
    job.run(command('reject', { records: rejectedRecords(2) }));
    expect(job.state).toMatchObject({ rejected: 2, warning: true });
    job.run(command('pause'));
    job.run(command('mark-paused'));
    job.run(command('start'));
    expect(job.state).toMatchObject({ status: 'running', startedAt: timeOf(2), endedAt: null });
    job.run(command('finish', { processed: 10, total: undefined }));
    expect(job.state).toMatchObject({
      status: 'finished',
      processed: 10,
      total: 10,
      rejected: 2,
      warning: true,
      startedAt: timeOf(2),
      endedAt: timeOf(10),
      updatedAt: timeOf(10),
      lastError: null,
    });
  });

  it('keeps the reported progress when a finish carries no counts', () => {
    const job = jobIn('running');
    job.run(command('progress', { processed: 4, total: 9 }));
    job.run(command('finish', { processed: undefined, total: undefined }));
    expect(job.state).toMatchObject({ status: 'finished', processed: 4, total: 9 });
  });

  it.each(['warning', 'error'] as const)('raises the warning flag on a %s log line, and keeps it', (level) => {
    const job = jobIn('running');
    job.run(command('log', { level }));
    job.run(command('log', { level: 'info' }));
    expect(job.state.warning).toBe(true);
  });

  it('keeps the last error and the end time of a failed job', () => {
    const job = jobIn('running');
    job.run(command('fail', { error: { message: 'disk full', code: 'ENOSPC' } }));
    expect(job.state).toMatchObject({
      status: 'finished_with_error',
      lastError: { message: 'disk full', code: 'ENOSPC' },
      endedAt: timeOf(3),
    });
  });

  it('ends a cancelled job, but not one interrupted by a server shutdown', () => {
    expect(jobIn('cancelled').state.endedAt).toBe(timeOf(2));
    const interrupted = jobIn('server_shutdown');
    expect(interrupted.state).toMatchObject({ endedAt: null, startedAt: timeOf(2) });
    interrupted.run(command('start'));
    expect(interrupted.state).toMatchObject({ status: 'running', startedAt: timeOf(2) });
  });

  it('keeps the counters of a job that was never started', () => {
    expect(jobIn('cancelled').state).toMatchObject({
      startedAt: null,
      processed: 0,
      total: null,
      rejected: 0,
      warning: false,
      lastError: null,
    });
  });
});

describe('replayJob', () => {
  /** A history of one event per command: versions 1 to 9. */
  function history(): JobHarness {
    const job = jobIn('editing');
    job.run(command('update', { definition: { file: 'contacts.csv' } }));
    job.run(command('start'));
    job.run(command('progress', { processed: 5, total: 10 }));
    job.run(command('pause'));
    job.run(command('mark-paused'));
    job.run(command('start'));
    job.run(command('log', { level: 'warning' }));
    job.run(command('finish'));
    expect(job.state.version).toBe(9);
    return job;
  }

  it('returns the state as it was at each version', () => {
    const job = history();
    for (let version = 0; version <= 9; version++) {
      expect(replayJob(JOB_ID, job.events, version)).toEqual(job.statesByVersion[version]);
    }
    expect(replayJob(JOB_ID, job.events, 4)).toMatchObject({
      version: 4,
      status: 'running',
      processed: 5,
      total: 10,
      startedAt: timeOf(3),
      updatedAt: timeOf(4),
      endedAt: null,
    });
    expect(replayJob(JOB_ID, job.events, 6)).toMatchObject({ version: 6, status: 'paused' });
  });

  it('returns the initial state at version 0 and the current one without a version', () => {
    const job = history();
    expect(replayJob(JOB_ID, job.events, 0)).toEqual(initialJobState(JOB_ID));
    expect(replayJob(JOB_ID, job.events)).toEqual(job.state);
    expect(replayJob(JOB_ID, job.events, 50)).toEqual(job.state);
    expect(replayJob(JOB_ID, job.events)).toMatchObject({ status: 'finished', version: 9, warning: true, endedAt: timeOf(9) });
  });

  it('replays stored events, with their positions, as decided ones', () => {
    const job = history();
    const stored = job.events.map((event, index) => ({ ...event, position: 100 + index }));
    expect(replayJob(JOB_ID, stored, 3)).toEqual(job.statesByVersion[3]);
  });

  it('treats a job without events as not existing', () => {
    expect(replayJob(JOB_ID, [])).toEqual(initialJobState(JOB_ID));
    expect(replayJob(JOB_ID, []).status).toBeNull();
  });
});
