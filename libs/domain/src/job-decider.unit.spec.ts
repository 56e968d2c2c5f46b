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
  type LogLevel,
  type RejectPolicy,
} from '#contracts';
import { DeciderSpecification, SPEC_JOB_ID as JOB_ID, timeOf, type EventDraft } from '#testing/decider-specification';
import { decide, type JobCommand } from './job-decider.js';
import { evolve, initialJobState, jobProgress, replayJob } from './job-state.js';

const spec = DeciderSpecification.for({ decide, evolve, initialState: initialJobState });

/** The executor the histories' claims name, and another one. */
const EXECUTOR = 'executor-1';
const OTHER_EXECUTOR = 'executor-2';

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
  claim: (jobId) => ({ jobId, executor: EXECUTOR }),
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

// The events of a job, by their type and data.
const created = (rejectPolicy: RejectPolicy = { maxRejects: 100 }): EventDraft => ({
  type: 'Created',
  data: { label: 'Contacts import', kind: 'import', definition: {}, rejectPolicy },
});
const definitionUpdated = (data: { label?: string; definition?: Record<string, unknown>; rejectPolicy?: RejectPolicy }): EventDraft => ({
  type: 'DefinitionUpdated',
  data,
});
const started = (previousStatus: JobStatus = 'editing'): EventDraft => ({ type: 'Started', data: { previousStatus } });
const claimed = (executor = EXECUTOR, leaseMs = 15_000): EventDraft => ({ type: 'Claimed', data: { executor, leaseMs } });
const pauseRequested: EventDraft = { type: 'PauseRequested', data: {} };
const paused: EventDraft = { type: 'Paused', data: {} };
const cancellationRequested: EventDraft = { type: 'CancellationRequested', data: {} };
const cancelled = (previousStatus: JobStatus): EventDraft => ({ type: 'Cancelled', data: { previousStatus } });
const finished = (data: { processed?: number; total?: number } = { processed: 10, total: 10 }): EventDraft => ({ type: 'Finished', data });
const errored = (error: { message: string; code?: string }): EventDraft => ({ type: 'Errored', data: { error } });
const serverShutdown = (data: { reason?: string } = { reason: 'deployment' }): EventDraft => ({ type: 'ServerShutdown', data });
const progressReported = (processed: number, total?: number, checkpoint?: unknown): EventDraft => ({
  type: 'ProgressReported',
  data: { processed, ...(total !== undefined && { total }), ...(checkpoint !== undefined && { checkpoint }) },
});
const messageLogged = (level: LogLevel, message = 'reading the source file'): EventDraft => ({
  type: 'MessageLogged',
  data: { level, message },
});
const recordsRejected = (records: CommandBody<'reject'>['records'], rejectedTotal: number): EventDraft => ({
  type: 'RecordsRejected',
  data: { records, rejectedTotal },
});
/** The `Errored` a reject appends when the job's rejected records pass its `maxRejects`. */
const stoppedByRejects = (rejectedTotal: number, maxRejects: number): EventDraft => ({
  type: 'Errored',
  data: {
    error: { code: REJECT_LIMIT_ERROR_CODE, message: expect.stringMatching(new RegExp(`\\b${rejectedTotal}\\b.*\\b${maxRejects}\\b`)) },
  },
});

/** Each status, and a running job no executor has claimed yet. */
type Column = 'none' | JobStatus | 'running_unclaimed';

/** The status a column's history brings a job to. */
const statusOf = (column: Column): JobStatus | null => (column === 'none' ? null : column === 'running_unclaimed' ? 'running' : column);

/** A history that brings a job to each status; an executing job is claimed by EXECUTOR. */
const HISTORIES: Record<Column, EventDraft[]> = {
  none: [],
  editing: [created()],
  running_unclaimed: [created(), started()],
  running: [created(), started(), claimed()],
  pausing: [created(), started(), claimed(), pauseRequested],
  paused: [created(), started(), claimed(), pauseRequested, paused],
  cancelling: [created(), started(), claimed(), cancellationRequested],
  cancelled: [created(), cancelled('editing')],
  finished: [created(), started(), finished()],
  finished_with_error: [created(), started(), errored({ message: 'the source file cannot be read', code: 'EIO' })],
  server_shutdown: [created(), started(), serverShutdown()],
};
/** A running job, unclaimed: what a command does to its data is the same either way. */
const RUNNING = HISTORIES.running_unclaimed;

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
    running_unclaimed: EXISTS,
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
    running_unclaimed: INVALID,
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
    running_unclaimed: NO_OP,
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
    running_unclaimed: to('paused', 'Paused'),
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
    running_unclaimed: INVALID,
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
    running_unclaimed: to('cancelled', 'Cancelled'),
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
    running_unclaimed: INVALID,
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
    running_unclaimed: to('finished', 'Finished'),
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
    running_unclaimed: to('finished_with_error', 'Errored'),
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
    running_unclaimed: to('server_shutdown', 'ServerShutdown'),
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
    running_unclaimed: to('running', 'ProgressReported'),
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
    running_unclaimed: to('running', 'MessageLogged'),
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
    running_unclaimed: to('running', 'RecordsRejected'),
    running: to('running', 'RecordsRejected'),
    pausing: to('pausing', 'RecordsRejected'),
    paused: INVALID,
    cancelling: to('cancelling', 'RecordsRejected'),
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: INVALID,
  },
  claim: {
    none: NOT_FOUND,
    editing: INVALID,
    running_unclaimed: to('running', 'Claimed'),
    running: NO_OP,
    pausing: INVALID,
    paused: INVALID,
    cancelling: INVALID,
    cancelled: INVALID,
    finished: INVALID,
    finished_with_error: INVALID,
    server_shutdown: INVALID,
  },
};

function describeOutcome(outcome: Outcome): string {
  if (typeof outcome === 'string') return outcome;
  return `${outcome.events.join(', ')} -> ${outcome.status}`;
}

/** An event of this type, whatever its data: the table is about transitions, the tests below about data. */
const ofType = (type: JobEventType) => ({ type, data: expect.anything() }) as EventDraft;

const COLUMNS: Column[] = ['none', 'running_unclaimed', ...JOB_STATUSES];

describe('job decider: every command in every status', () => {
  it('covers every command and every status', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...COMMAND_NAMES].sort());
    for (const row of Object.values(EXPECTED)) expect(Object.keys(row).sort()).toEqual([...COLUMNS].sort());
  });

  it.each(COLUMNS)('the history of a job %s brings it to that status', (column) => {
    expect(spec().given(HISTORIES[column]).state.status).toBe(statusOf(column));
  });

  const cases = COMMAND_NAMES.flatMap((name) =>
    COLUMNS.map((column) => ({ name, column, outcome: EXPECTED[name][column], label: describeOutcome(EXPECTED[name][column]) })),
  );

  it.each(cases)('$name while $column: $label', ({ name, column, outcome }) => {
    const when = spec().given(HISTORIES[column]).when(command(name));
    if (outcome === NO_OP) {
      when.thenNothing();
    } else if (outcome === INVALID) {
      when.thenFails({
        code: 'INVALID_TRANSITION',
        status: statusOf(column)!,
        command: name,
        message: expect.stringMatching(new RegExp(`\\b${statusOf(column)}\\b`)),
      });
    } else if (outcome === NOT_FOUND || outcome === EXISTS) {
      when.thenFails({ code: outcome, message: expect.stringContaining(JOB_ID) });
    } else {
      const { state } = when.then(outcome.events.map(ofType));
      expect(state).toMatchObject({ status: outcome.status, version: HISTORIES[column].length + outcome.events.length });
    }
  });
});

describe('job decider: what the events say', () => {
  it.each(['editing', 'paused', 'server_shutdown'] as const)('starts and cancels a job that is %s, naming that status', (from) => {
    spec()
      .given(HISTORIES[from])
      .when(command('start'))
      .then([started(from)]);
    spec()
      .given(HISTORIES[from])
      .when(command('cancel'))
      .then([cancelled(from)]);
  });

  it('cancels a cancelling job once the executor confirms, naming cancelling', () => {
    spec()
      .given(HISTORIES.cancelling)
      .when(command('mark-cancelled'))
      .then([cancelled('cancelling')]);
  });

  it('creates a job with its label, kind and definition, and a limit of 100 rejected records by default', () => {
    spec()
      .given([])
      .when(command('create', { definition: { file: 'contacts.csv' } }))
      .then([
        {
          type: 'Created',
          data: { label: 'Contacts import', kind: 'import', definition: { file: 'contacts.csv' }, rejectPolicy: { maxRejects: 100 } },
        },
      ]);
    spec()
      .given([])
      .when(command('create'))
      .then([created({ maxRejects: 100 })]);
  });

  it('updates only the fields an update names', () => {
    spec()
      .given(HISTORIES.editing)
      .when(command('update', { label: undefined, definition: { file: 'march.csv' } }))
      .then([definitionUpdated({ definition: { file: 'march.csv' } })]);
  });

  it('reports progress, with or without a total', () => {
    spec()
      .given(RUNNING)
      .when(command('progress', { processed: 3, total: 20 }))
      .then([progressReported(3, 20)]);
    spec()
      .given(RUNNING)
      .when(command('progress', { processed: 3, total: undefined }))
      .then([progressReported(3)]);
  });

  it('logs a line with its level', () => {
    spec()
      .given(RUNNING)
      .when(command('log', { level: 'warning', message: 'slow source' }))
      .then([messageLogged('warning', 'slow source')]);
  });

  it('rejects records, counting them', () => {
    const records = rejectedRecords(2);
    spec()
      .given(RUNNING)
      .when(command('reject', { records }))
      .then([recordsRejected(records, 2)]);
  });

  it('finishes, fails and shuts down with only the fields the executor sent', () => {
    spec()
      .given(RUNNING)
      .when(command('finish', { total: undefined }))
      .then([finished({ processed: 10 })]);
    spec()
      .given(RUNNING)
      .when(command('fail', { error: { message: 'out of memory' } }))
      .then([errored({ message: 'out of memory' })]);
    spec()
      .given(RUNNING)
      .when(command('shutdown', { reason: undefined }))
      .then([serverShutdown({})]);
  });

  it('changes neither the state nor the command it is given', () => {
    const given = spec().given(RUNNING);
    const state = structuredClone(given.state);
    const records = rejectedRecords(101);
    const reject = command('reject', { records });
    const body = structuredClone(reject.body);
    given.when(reject).then([recordsRejected(records, 101), stoppedByRejects(101, 100)]);
    expect(given.state).toEqual(state);
    expect(reject.body).toEqual(body);
  });
});

describe('job decider: claims', () => {
  it('gives a started job to the first executor that claims it, with the lease it asks for or 15 s', () => {
    const { state } = spec()
      .given(HISTORIES.running_unclaimed)
      .when(command('claim', { leaseMs: 2_000 }))
      .then([claimed(EXECUTOR, 2_000)]);
    expect(state).toMatchObject({ status: 'running', executor: EXECUTOR, leaseMs: 2_000 });
    spec()
      .given(HISTORIES.running_unclaimed)
      .when(command('claim'))
      .then([claimed(EXECUTOR, 15_000)]);
  });

  it('takes the claim of the executor that holds the job again as a repeat, whatever lease it names', () => {
    spec()
      .given(HISTORIES.running)
      .when(command('claim', { leaseMs: 60_000 }))
      .thenNothing();
  });

  it('refuses the claim of another executor, naming the holder', () => {
    spec()
      .given(HISTORIES.running)
      .when(command('claim', { executor: OTHER_EXECUTOR }))
      .thenFails({
        code: 'JOB_CLAIMED',
        executor: EXECUTOR,
        message: `job ${JOB_ID} is claimed by executor ${EXECUTOR}, not ${OTHER_EXECUTOR}: leave it to that executor and claim another job`,
      });
  });

  it.each(['pausing', 'cancelling', 'paused', 'server_shutdown'] as const)(
    'refuses any claim of a job that is %s as a transition',
    (status) => {
      for (const executor of [EXECUTOR, OTHER_EXECUTOR]) {
        spec()
          .given(HISTORIES[status])
          .when(command('claim', { executor }))
          .thenFails({ code: 'INVALID_TRANSITION', status, command: 'claim' });
      }
    },
  );

  it('pauses and cancels a running job nobody holds at once: no executor is there to confirm', () => {
    const pausedJob = spec().given(HISTORIES.running_unclaimed).when(command('pause')).then([paused]);
    expect(pausedJob.state).toMatchObject({ status: 'paused', executor: null });
    const cancelledJob = spec()
      .given(HISTORIES.running_unclaimed)
      .when(command('cancel'))
      .then([cancelled('running')]);
    expect(cancelledJob.state).toMatchObject({ status: 'cancelled', endedAt: timeOf(3) });
  });

  it('asks the executor that holds a running job to pause or cancel it', () => {
    spec().given(HISTORIES.running).when(command('pause')).then([pauseRequested]);
    spec().given(HISTORIES.running).when(command('cancel')).then([cancellationRequested]);
  });

  /** Each event that ends a run, from the claimed status it follows. */
  const RELEASES: [string, EventDraft[], EventDraft][] = [
    ['Paused', HISTORIES.pausing, paused],
    ['Cancelled', HISTORIES.cancelling, cancelled('cancelling')],
    ['Finished', HISTORIES.running, finished()],
    ['Errored', HISTORIES.running, errored({ message: 'disk full' })],
    ['ServerShutdown', HISTORIES.running, serverShutdown()],
  ];

  it.each(RELEASES)('%s leaves the job held by no executor', (_, history, event) => {
    expect(spec().given(history).state).toMatchObject({ executor: EXECUTOR, leaseMs: 15_000 });
    expect(spec().given([...history, event]).state).toMatchObject({ executor: null, leaseMs: null });
  });

  it('lets a run that starts again after a shutdown be claimed anew, by any executor', () => {
    const { state } = spec()
      .given([...HISTORIES.server_shutdown, started('server_shutdown')])
      .when(command('claim', { executor: OTHER_EXECUTOR }))
      .then([claimed(OTHER_EXECUTOR)]);
    expect(state).toMatchObject({ status: 'running', executor: OTHER_EXECUTOR });
  });
});

describe("job decider: fencing the executor's commands", () => {
  /** Each command an executor sends about its run, and what it does on a job EXECUTOR holds. */
  const FENCED: [CommandName, EventDraft[], JobEventType][] = [
    ['progress', HISTORIES.running, 'ProgressReported'],
    ['log', HISTORIES.running, 'MessageLogged'],
    ['reject', HISTORIES.running, 'RecordsRejected'],
    ['finish', HISTORIES.running, 'Finished'],
    ['fail', HISTORIES.running, 'Errored'],
    ['shutdown', HISTORIES.running, 'ServerShutdown'],
    ['mark-paused', HISTORIES.pausing, 'Paused'],
    ['mark-cancelled', HISTORIES.cancelling, 'Cancelled'],
  ];

  it.each(FENCED)('%s naming the executor that holds the job is applied', (name, history, type) => {
    spec()
      .given(history)
      .when(command(name, { executor: EXECUTOR }))
      .then([ofType(type)]);
  });

  it.each(FENCED)('%s naming another executor is refused, naming the holder', (name, history) => {
    spec()
      .given(history)
      .when(command(name, { executor: OTHER_EXECUTOR }))
      .thenFails({
        code: 'JOB_CLAIMED',
        executor: EXECUTOR,
        message: expect.stringMatching(new RegExp(`claimed by executor ${EXECUTOR}, not ${OTHER_EXECUTOR}.*stop working on it`)),
      });
  });

  it.each(FENCED)('%s naming an executor is refused while nobody holds the executing job: its run ended', (name, history) => {
    // The run the executor worked on was shut down (its lease expired) and the job started again.
    const restarted = history.filter((event) => event.type !== 'Claimed');
    spec()
      .given(restarted)
      .when(command(name, { executor: EXECUTOR }))
      .thenFails({ code: 'JOB_CLAIMED', executor: null, message: expect.stringMatching(/by none.*claim it again/) });
  });

  it.each(FENCED)('%s without an executor is applied whoever holds the job, as before claims', (name, history, type) => {
    spec()
      .given(history)
      .when(command(name))
      .then([ofType(type)]);
  });

  it('answers by the transition table once the job no longer executes: a repeat stays a repeat', () => {
    const shutDown = [...HISTORIES.running, serverShutdown()];
    spec()
      .given(shutDown)
      .when(command('shutdown', { executor: EXECUTOR }))
      .thenNothing();
    spec()
      .given(shutDown)
      .when(command('shutdown', { executor: OTHER_EXECUTOR }))
      .thenNothing();
    spec()
      .given(HISTORIES.paused)
      .when(command('mark-paused', { executor: EXECUTOR }))
      .thenNothing();
    spec()
      .given(HISTORIES.paused)
      .when(command('progress', { executor: OTHER_EXECUTOR }))
      .thenFails({ code: 'INVALID_TRANSITION', status: 'paused', command: 'progress' });
    spec()
      .given(HISTORIES.finished)
      .when(command('log', { executor: OTHER_EXECUTOR }))
      .then([messageLogged('info')]);
  });

  it('refuses a late shutdown of a run that ended and started again, held by another executor now', () => {
    const history = [...HISTORIES.running, serverShutdown(), started('server_shutdown'), claimed(OTHER_EXECUTOR)];
    spec()
      .given(history)
      .when(command('shutdown', { executor: EXECUTOR, reason: 'executor executor-1 stopped renewing its lease' }))
      .thenFails({ code: 'JOB_CLAIMED', executor: OTHER_EXECUTOR });
  });
});

describe('job decider: checkpoints', () => {
  it('reports a checkpoint with the progress', () => {
    const { state } = spec()
      .given(HISTORIES.running)
      .when(command('progress', { processed: 3, total: undefined, checkpoint: { line: 3 }, executor: EXECUTOR }))
      .then([progressReported(3, undefined, { line: 3 })]);
    expect(state.checkpoint).toEqual({ line: 3 });
  });

  it('keeps the last checkpoint when a report carries none, and takes a null one', () => {
    const kept = spec()
      .given([...HISTORIES.running, progressReported(3, 10, { line: 3 })])
      .when(command('progress', { processed: 4 }))
      .then([progressReported(4, 10)]);
    expect(kept.state).toMatchObject({ processed: 4, checkpoint: { line: 3 } });
    const cleared = spec()
      .given([...HISTORIES.running, progressReported(3, 10, { line: 3 })])
      .when(command('progress', { processed: 4, checkpoint: null }))
      .then([progressReported(4, 10, null)]);
    expect(cleared.state.checkpoint).toBeNull();
  });

  it('is null until one is reported, and kept across pauses, shutdowns and restarts for the next run to resume from', () => {
    expect(spec().given(HISTORIES.running).state.checkpoint).toBeNull();
    const afterPause = [...HISTORIES.running, progressReported(3, 10, { line: 3 }), pauseRequested, paused, started('paused')];
    expect(spec().given(afterPause).state).toMatchObject({ status: 'running', executor: null, checkpoint: { line: 3 } });
    const afterShutdown = [
      ...afterPause,
      claimed(OTHER_EXECUTOR),
      progressReported(7, 10, 'line 7'),
      serverShutdown(),
      started('server_shutdown'),
    ];
    expect(spec().given(afterShutdown).state).toMatchObject({ status: 'running', executor: null, checkpoint: 'line 7' });
  });
});

describe('job decider: rejects policy', () => {
  it('lets a job created without a policy reject 100 records and keep running', () => {
    const { events: creation } = spec()
      .given([])
      .when(command('create'))
      .then([created({ maxRejects: 100 })]);
    const records = rejectedRecords(1, 101);
    const { state } = spec()
      .given([...creation, started(), recordsRejected(rejectedRecords(99), 99)])
      .when(command('reject', { records }))
      .then([recordsRejected(records, 100)]);
    expect(state).toMatchObject({ status: 'running', rejected: 100, lastError: null, endedAt: null });
  });

  it('ends the job finished_with_error on the 101st rejected record, in the same decision', () => {
    const records = rejectedRecords(1, 102);
    const { state } = spec()
      .given([...RUNNING, recordsRejected(rejectedRecords(100), 100)])
      .when(command('reject', { records }))
      .then([recordsRejected(records, 101), stoppedByRejects(101, 100)]);
    expect(state).toMatchObject({
      status: 'finished_with_error',
      version: 5,
      rejected: 101,
      endedAt: timeOf(4),
      lastError: { code: REJECT_LIMIT_ERROR_CODE },
    });
  });

  it.each(['running', 'pausing', 'cancelling'] as const)('ends a job that is %s when one batch passes the limit', (status) => {
    const records = rejectedRecords(101);
    const { state } = spec()
      .given(HISTORIES[status])
      .when(command('reject', { records }))
      .then([recordsRejected(records, 101), stoppedByRejects(101, 100)]);
    expect(state.status).toBe('finished_with_error');
  });

  it('refuses rejects once the limit has ended the job', () => {
    spec()
      .given([
        ...RUNNING,
        recordsRejected(rejectedRecords(101), 101),
        errored({ code: REJECT_LIMIT_ERROR_CODE, message: "101 records rejected, more than the job's limit of 100: the job was stopped" }),
      ])
      .when(command('reject'))
      .thenFails({ code: 'INVALID_TRANSITION', status: 'finished_with_error', command: 'reject' });
  });

  it('never stops a job whose maxRejects is null', () => {
    const records = rejectedRecords(1000);
    const { state } = spec()
      .given([created({ maxRejects: null }), started(), recordsRejected(rejectedRecords(4000), 4000)])
      .when(command('reject', { records }))
      .then([recordsRejected(records, 5000)]);
    expect(state).toMatchObject({ status: 'running', rejected: 5000 });
  });

  it('stops a job whose maxRejects is 0 on its first rejected record', () => {
    const records = rejectedRecords(1);
    const { state } = spec()
      .given([created({ maxRejects: 0 }), started()])
      .when(command('reject', { records }))
      .then([recordsRejected(records, 1), stoppedByRejects(1, 0)]);
    expect(state).toMatchObject({ status: 'finished_with_error', rejected: 1, lastError: { code: REJECT_LIMIT_ERROR_CODE } });
  });

  it('applies a limit set by an update while editing', () => {
    const { events: update } = spec()
      .given(HISTORIES.editing)
      .when(command('update', { label: undefined, rejectPolicy: { maxRejects: 5 } }))
      .then([definitionUpdated({ rejectPolicy: { maxRejects: 5 } })]);
    const five = rejectedRecords(5);
    spec()
      .given([created(), ...update, started()])
      .when(command('reject', { records: five }))
      .then([recordsRejected(five, 5)]);
    const sixth = rejectedRecords(1, 7);
    spec()
      .given([created(), ...update, started(), recordsRejected(five, 5)])
      .when(command('reject', { records: sixth }))
      .then([recordsRejected(sixth, 6), stoppedByRejects(6, 5)]);
  });
});

describe('job decider: expected version', () => {
  it('accepts a command at the expected version', () => {
    spec().given(RUNNING).when(command('pause'), { expectedVersion: 2 }).then([paused]);
    spec().given([]).when(command('create'), { expectedVersion: 0 }).then([created()]);
  });

  it.each([1, 3])('refuses a command expecting version %i of a job at version 2', (expectedVersion) => {
    spec()
      .given(RUNNING)
      .when(command('pause'), { expectedVersion })
      .thenFails({ code: 'CONCURRENCY_CONFLICT', expectedVersion, actualVersion: 2 });
  });

  it('refuses to create a job expected to exist already', () => {
    spec()
      .given([])
      .when(command('create'), { expectedVersion: 1 })
      .thenFails({ code: 'CONCURRENCY_CONFLICT', expectedVersion: 1, actualVersion: 0 });
  });
});

describe('job decider: event metadata', () => {
  const metadata = { jobId: JOB_ID, schemaVersion: EVENT_SCHEMA_VERSION };

  it('copies the command context onto its event, the first at version 1', () => {
    const context = { commandId: 'c-create', actor: 'alice', at: timeOf(1), correlationId: 'ui-42', causationId: 'c-create' };
    spec()
      .given([])
      .when(command('create', { rejectPolicy: { maxRejects: 0 } }), context)
      .then([{ ...created({ maxRejects: 0 }), ...metadata, ...context, eventId: `${JOB_ID}:1`, version: 1 }]);
  });

  it('copies the command context onto each of its events, with contiguous versions', () => {
    const context = { commandId: 'c-reject', actor: 'executor-7', at: timeOf(3), correlationId: 'ui-43', causationId: 'c-start' };
    const records = rejectedRecords(1);
    spec()
      .given([created({ maxRejects: 0 }), started()])
      .when(command('reject', { records }), context)
      .then([
        { ...recordsRejected(records, 1), ...metadata, ...context, eventId: `${JOB_ID}:3`, version: 3 },
        { ...stoppedByRejects(1, 0), ...metadata, ...context, eventId: `${JOB_ID}:4`, version: 4 },
      ]);
  });

  it('records on each of its events whether the NATS server vouched for the actor', () => {
    const records = rejectedRecords(1);
    const vouched = spec()
      .given([created({ maxRejects: 0 }), started()])
      .when(command('reject', { records }), { actor: 'executor-7', actorAuthenticated: true });
    expect((vouched.decision as { events: { actor: string; actorAuthenticated?: boolean }[] }).events).toMatchObject([
      { actor: 'executor-7', actorAuthenticated: true },
      { actor: 'executor-7', actorAuthenticated: true },
    ]);
    const { events } = spec().given(RUNNING).when(command('pause'), { actor: 'bob' }).then([paused]);
    expect(events[0]).toMatchObject({ actor: 'bob', actorAuthenticated: false });
  });

  it("records the command's digest on its events when the command has one, and no digest field otherwise", () => {
    spec()
      .given(RUNNING)
      .when(command('pause'), { commandDigest: 'sha256:0f1e' })
      .then([{ ...paused, commandDigest: 'sha256:0f1e' }]);
    const { events } = spec().given(RUNNING).when(command('pause')).then([paused]);
    expect(events[0]).not.toHaveProperty('commandDigest');
  });
});

describe("evolve: a job's state from its events", () => {
  it('keeps who created the job and when, and when it was last updated', () => {
    const { state } = spec().given([]).when(command('create')).then([created()]);
    expect(state).toEqual({
      ...initialJobState(JOB_ID),
      version: 1,
      status: 'editing',
      label: 'Contacts import',
      kind: 'import',
      createdAt: timeOf(1),
      createdBy: 'alice',
      updatedAt: timeOf(1),
    });
    const updated = spec()
      .given(HISTORIES.editing)
      .when(command('update', { definition: { file: 'contacts.csv' } }), { actor: 'bob' })
      .then([definitionUpdated({ label: 'Contacts import (March)', definition: { file: 'contacts.csv' } })]);
    expect(updated.state).toMatchObject({
      label: 'Contacts import (March)',
      definition: { file: 'contacts.csv' },
      rejectPolicy: { maxRejects: 100 },
      createdBy: 'alice',
      createdAt: timeOf(1),
      updatedAt: timeOf(2),
    });
  });

  it('counts processed records, keeping the total when a report leaves it out', () => {
    const first = spec()
      .given(RUNNING)
      .when(command('progress', { processed: 5, total: 10 }))
      .then([progressReported(5, 10)]);
    expect(first.state).toMatchObject({ startedAt: timeOf(2), processed: 5, total: 10, warning: false });
    const second = spec()
      .given([...RUNNING, progressReported(5, 10)])
      .when(command('progress', { processed: 7, total: undefined }))
      .then([progressReported(7)]);
    expect(second.state).toMatchObject({ processed: 7, total: 10 });
  });

  it('counts rejected records, and raises the warning flag for them but not for an info log line', () => {
    const info = spec()
      .given(RUNNING)
      .when(command('log', { level: 'info' }))
      .then([messageLogged('info')]);
    expect(info.state.warning).toBe(false);
    const records = rejectedRecords(2);
    const rejected = spec()
      .given(RUNNING)
      .when(command('reject', { records }))
      .then([recordsRejected(records, 2)]);
    expect(rejected.state).toMatchObject({ rejected: 2, warning: true });
  });

  it.each(['warning', 'error'] as const)('raises the warning flag on a %s log line, and keeps it', (level) => {
    const raised = spec()
      .given(RUNNING)
      .when(command('log', { level }))
      .then([messageLogged(level)]);
    expect(raised.state.warning).toBe(true);
    const kept = spec()
      .given([...RUNNING, messageLogged(level)])
      .when(command('log', { level: 'info' }))
      .then([messageLogged('info')]);
    expect(kept.state.warning).toBe(true);
  });

  it('raises the warning flag when the job fails: its failure is logged as an error', () => {
    const { state } = spec()
      .given(RUNNING)
      .when(command('fail', { error: { message: 'disk full', code: 'ENOSPC' } }))
      .then([errored({ message: 'disk full', code: 'ENOSPC' })]);
    expect(state).toMatchObject({ status: 'finished_with_error', warning: true });
  });

  it('raises the warning flag when a server shutdown interrupts the job: it is logged as a warning', () => {
    const { state } = spec().given(RUNNING).when(command('shutdown')).then([serverShutdown()]);
    expect(state).toMatchObject({ status: 'server_shutdown', warning: true });
  });

  it('keeps the first start time when a paused job starts again', () => {
    const { state } = spec()
      .given(HISTORIES.paused)
      .when(command('start'))
      .then([started('paused')]);
    expect(state).toMatchObject({ status: 'running', startedAt: timeOf(2), endedAt: null });
  });

  it('ends a finished job, keeping its counters and the total a finish leaves out', () => {
    const records = rejectedRecords(2);
    const { state } = spec()
      .given([...RUNNING, progressReported(7, 10), recordsRejected(records, 2)])
      .when(command('finish', { processed: 10, total: undefined }))
      .then([finished({ processed: 10 })]);
    expect(state).toMatchObject({
      status: 'finished',
      processed: 10,
      total: 10,
      rejected: 2,
      warning: true,
      startedAt: timeOf(2),
      endedAt: timeOf(5),
      updatedAt: timeOf(5),
      lastError: null,
    });
  });

  it('keeps the reported progress when a finish carries no counts', () => {
    const { state } = spec()
      .given([...RUNNING, progressReported(4, 9)])
      .when(command('finish', { processed: undefined, total: undefined }))
      .then([finished({})]);
    expect(state).toMatchObject({ status: 'finished', processed: 4, total: 9 });
  });

  it('keeps the last error and the end time of a failed job', () => {
    const { state } = spec()
      .given(RUNNING)
      .when(command('fail', { error: { message: 'disk full', code: 'ENOSPC' } }))
      .then([errored({ message: 'disk full', code: 'ENOSPC' })]);
    expect(state).toMatchObject({
      status: 'finished_with_error',
      lastError: { message: 'disk full', code: 'ENOSPC' },
      endedAt: timeOf(3),
    });
  });

  it('ends a cancelled job, but not one interrupted by a server shutdown, which keeps its start time when it starts again', () => {
    const cancelledJob = spec()
      .given(HISTORIES.editing)
      .when(command('cancel'))
      .then([cancelled('editing')]);
    expect(cancelledJob.state.endedAt).toBe(timeOf(2));
    const interrupted = spec().given(RUNNING).when(command('shutdown')).then([serverShutdown()]);
    expect(interrupted.state).toMatchObject({ endedAt: null, startedAt: timeOf(2) });
    const restarted = spec()
      .given(HISTORIES.server_shutdown)
      .when(command('start'))
      .then([started('server_shutdown')]);
    expect(restarted.state).toMatchObject({ status: 'running', startedAt: timeOf(2), endedAt: null });
  });

  it('keeps the counters of a job that was never started', () => {
    const { state } = spec()
      .given(HISTORIES.editing)
      .when(command('cancel'))
      .then([cancelled('editing')]);
    expect(state).toMatchObject({
      startedAt: null,
      processed: 0,
      total: null,
      rejected: 0,
      warning: false,
      lastError: null,
    });
  });
});

describe('jobProgress', () => {
  it('is the share of processed records while the total is known', () => {
    expect(jobProgress(spec().given([...RUNNING, progressReported(40, 80)]).state)).toBe(50);
    expect(jobProgress(spec().given([...RUNNING, progressReported(1, 3)]).state)).toBe(33.3);
  });

  it("is null while a running job's total is unknown", () => {
    expect(jobProgress(spec().given([...RUNNING, progressReported(40)]).state)).toBeNull();
  });

  it('is 100 once the job is finished, even when its total was never known', () => {
    const { state } = spec()
      .given([...RUNNING, progressReported(40)])
      .when(command('finish', { processed: undefined, total: undefined }))
      .then([finished({})]);
    expect(state).toMatchObject({ status: 'finished', processed: 40, total: null });
    expect(jobProgress(state)).toBe(100);
  });
});

describe('replayJob', () => {
  /** One event per command: versions 1 to 9. */
  const HISTORY: EventDraft[] = [
    created(),
    definitionUpdated({ definition: { file: 'contacts.csv' } }),
    started(),
    progressReported(5, 10),
    pauseRequested,
    paused,
    started('paused'),
    messageLogged('warning', 'slow source'),
    finished(),
  ];
  const events = spec().given(HISTORY).events;

  it('returns the state as it was at each version', () => {
    for (let version = 0; version <= 9; version++) {
      expect(replayJob(JOB_ID, events, version)).toEqual(spec().given(HISTORY.slice(0, version)).state);
    }
    expect(replayJob(JOB_ID, events, 4)).toMatchObject({
      version: 4,
      status: 'running',
      processed: 5,
      total: 10,
      startedAt: timeOf(3),
      updatedAt: timeOf(4),
      endedAt: null,
    });
    expect(replayJob(JOB_ID, events, 6)).toMatchObject({ version: 6, status: 'paused' });
  });

  it('returns the initial state at version 0 and the current one without a version', () => {
    const current = spec().given(HISTORY).state;
    expect(replayJob(JOB_ID, events, 0)).toEqual(initialJobState(JOB_ID));
    expect(replayJob(JOB_ID, events)).toEqual(current);
    expect(replayJob(JOB_ID, events, 50)).toEqual(current);
    expect(replayJob(JOB_ID, events)).toMatchObject({ status: 'finished', version: 9, warning: true, endedAt: timeOf(9) });
  });

  it('replays stored events, with their positions, as decided ones', () => {
    const stored = events.map((event, index) => ({ ...event, position: 100 + index }));
    expect(replayJob(JOB_ID, stored, 3)).toEqual(spec().given(HISTORY.slice(0, 3)).state);
  });

  it('treats a job without events as not existing', () => {
    expect(replayJob(JOB_ID, [])).toEqual(initialJobState(JOB_ID));
    expect(replayJob(JOB_ID, []).status).toBeNull();
  });
});
