import { describe, expect, it } from 'vitest';
import type { UnpositionedJobEvent } from '#contracts';
import { DeciderSpecification, SPEC_JOB_ID, type EventDraft } from '#testing/decider-specification';
import { checkCommit, type CommitToCheck } from './commit-check.js';
import { decide } from './job-decider.js';
import { evolve, initialJobState, replayJob } from './job-state.js';

const spec = DeciderSpecification.for({ decide, evolve, initialState: initialJobState });

const created: EventDraft = {
  type: 'Created',
  data: { label: 'Contacts import', kind: 'import', definition: {}, rejectPolicy: { maxRejects: 2 } },
};
const started: EventDraft = { type: 'Started', data: { previousStatus: 'editing' } };

/** Valid events of the job: created, then started. */
const history = spec().given([created, started]).events;

/** A commit of these events as the service stores it on the job's subject. */
function commitOf(events: readonly unknown[], overrides: Partial<CommitToCheck> = {}): CommitToCheck {
  const last = events.at(-1) as UnpositionedJobEvent | undefined;
  return { jobId: SPEC_JOB_ID, version: last?.version ?? null, events: JSON.stringify(events), ...overrides };
}

const jobAt = (version: number) => replayJob(SPEC_JOB_ID, history, version);

describe('checkCommit: a commit the service could have written', () => {
  it('accepts the commits of a job in order, and gives the state after each', () => {
    const first = checkCommit(initialJobState(SPEC_JOB_ID), commitOf([history[0]]));
    expect(first).toMatchObject({ ok: true, state: { status: 'editing', version: 1 } });
    const second = checkCommit(jobAt(1), commitOf([history[1]]));
    expect(second).toEqual({ ok: true, events: [history[1]], state: jobAt(2) });
  });

  it('accepts a commit of several events: rejected records that cross the limit, and the end of the job', () => {
    const crossing = spec()
      .given([created, started])
      .when({ name: 'reject', body: { jobId: SPEC_JOB_ID, records: [1, 2, 3].map((line) => ({ line, reason: 'bad', record: {} })) } });
    expect(crossing.decision.ok && crossing.decision.events.map((event) => event.type)).toEqual(['RecordsRejected', 'Errored']);
    const events = crossing.decision.ok ? crossing.decision.events : [];
    expect(checkCommit(jobAt(2), commitOf(events))).toMatchObject({ ok: true, state: { status: 'finished_with_error', version: 4 } });
  });
});

describe('checkCommit: what is quarantined, and why', () => {
  const running = jobAt(2);
  const next = (type: string, data: unknown, fields: Record<string, unknown> = {}) => ({
    ...history[1]!,
    eventId: `${SPEC_JOB_ID}:3`,
    version: 3,
    type,
    data,
    ...fields,
  });
  const cases: [string, CommitToCheck, RegExp][] = [
    ['a body that is not JSON', { jobId: SPEC_JOB_ID, version: 3, events: 'this is not json' }, /not JSON/],
    ['an empty array', commitOf([], { version: 3 }), /non-empty array/],
    ['an object instead of an array', { jobId: SPEC_JOB_ID, version: 3, events: '{"type":"Finished"}' }, /non-empty array/],
    ['an unknown event type', commitOf([next('Exploded', {})]), /event 1 of 1 is not a known event: type/],
    ['a newer schema version', commitOf([next('Finished', {}, { schemaVersion: 2 })]), /schemaVersion/],
    ['a missing field', commitOf([{ ...next('Finished', {}), actor: undefined }]), /actor/],
    ['malformed data', commitOf([next('ProgressReported', { processed: -1 })]), /\(ProgressReported\) has malformed data: processed/],
    [
      'another job in the body',
      commitOf([next('Finished', {}, { jobId: 'job-C' })]),
      /names job job-C, but the commit is on job job-1's subject/,
    ],
    ['a version that skips ahead', commitOf([next('Finished', {}, { version: 50 })]), /has version 50, but the job's next version is 3/],
    ['a version already taken', commitOf([next('Finished', {}, { version: 2 })]), /has version 2, but the job's next version is 3/],
    ['a Created on a job that exists', commitOf([next('Created', created.data)]), /\(Created\) is on a job that exists already/],
    [
      'a transition the status does not take',
      commitOf([next('Finished', {}), next('PauseRequested', {}, { version: 4 })]),
      /\(PauseRequested\) cannot follow the status finished/,
    ],
    [
      'a wrong previous status',
      commitOf([next('Cancelled', { previousStatus: 'paused' })]),
      /names the previous status paused, but the job was running/,
    ],
    [
      'a claim with a lease too short',
      commitOf([next('Claimed', { executor: 'executor-1', leaseMs: 10 })]),
      /\(Claimed\) has malformed data: leaseMs/,
    ],
    [
      'a wrong rejected total',
      commitOf([next('RecordsRejected', { records: [{ line: 1, reason: 'bad', record: {} }], rejectedTotal: 7 })]),
      /says 7 rejected in total, but the job had 0 plus 1/,
    ],
    [
      'a header that disagrees with the body',
      commitOf([next('Finished', {})], { version: 4 }),
      /Job-Version header says 4, but its events end at version 3/,
    ],
    ['no header', commitOf([next('Finished', {})], { version: null }), /Job-Version header says nothing/],
  ];
  it.each(cases)('%s', (_, commit, reason) => {
    const checked = checkCommit(running, commit);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toMatch(reason);
  });

  it.each([
    ['Claimed', { executor: 'executor-2', leaseMs: 15_000 }],
    ['Paused', {}],
    ['Cancelled', { previousStatus: 'running' }],
  ])(
    'refuses a %s on a running job an executor holds: only a job nobody holds is claimed, or paused or cancelled at once',
    (type, data) => {
      const claimed = { ...next('Claimed', { executor: 'executor-1', leaseMs: 15_000 }) };
      const holding = checkCommit(running, commitOf([claimed]));
      expect(holding.ok).toBe(true);
      const checked = checkCommit(
        holding.ok ? holding.state : running,
        commitOf([next(type, data, { version: 4, eventId: `${SPEC_JOB_ID}:4` })]),
      );
      expect(checked).toEqual({
        ok: false,
        reason: `event 1 of 1 (${type}) cannot follow the status running while executor executor-1 holds the job`,
      });
    },
  );

  it('accepts a progress report with a checkpoint of any JSON', () => {
    const checked = checkCommit(running, commitOf([next('ProgressReported', { processed: 4, checkpoint: { line: 4, key: [1, 'a'] } })]));
    expect(checked).toMatchObject({ ok: true, state: { processed: 4, checkpoint: { line: 4, key: [1, 'a'] } } });
  });

  it('refuses events on a job that was never created', () => {
    const checked = checkCommit(initialJobState(SPEC_JOB_ID), commitOf([{ ...history[1]!, version: 1, eventId: `${SPEC_JOB_ID}:1` }]));
    expect(checked).toEqual({ ok: false, reason: 'event 1 of 1 (Started) is on a job that was never created' });
  });

  it('refuses a commit on a subject of more tokens than a job id takes, whatever its body names', () => {
    const jobId = 'job-1.extra';
    const checked = checkCommit(initialJobState(jobId), commitOf([{ ...history[0]!, jobId, eventId: `${jobId}:1` }], { jobId }));
    expect(checked).toEqual({ ok: false, reason: 'its subject names no job: "job-1.extra" is not a job id' });
  });

  it('cuts a reason short at 500 characters, however much the body gives it to say', () => {
    const noise = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`unknown-field-${i}`, i]));
    const checked = checkCommit(running, commitOf([next('Finished', {}, noise)]));
    expect(!checked.ok && checked.reason).toMatch(/^event 1 of 1 is not a known event: .*…$/);
    expect(!checked.ok && checked.reason.length).toBe(500);
  });

  it('refuses a whole commit when one of its events is bad, so a reader never applies half of it', () => {
    const good = next('ProgressReported', { processed: 1 });
    const bad = { ...next('Finished', {}), version: 9 };
    expect(checkCommit(running, commitOf([good, bad])).ok).toBe(false);
  });
});
