import { describe, expect, it } from 'vitest';
import { querySchemas } from '#contracts';
import { ApiError } from './api-error.js';
import { commandBody, expectedVersionFrom, queryBody } from './request-reading.js';

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error.body;
    throw error;
  }
  throw new Error('not refused');
};

describe('queryBody', () => {
  it('converts numbers and keeps a repeated status as an array', () => {
    expect(queryBody('list', querySchemas.list, { status: ['running', 'paused'], limit: '10', minPosition: '42', kind: 'import' })).toEqual(
      {
        status: ['running', 'paused'],
        limit: 10,
        minPosition: 42,
        kind: 'import',
      },
    );
  });

  it('takes one status as one value', () => {
    expect(queryBody('list', querySchemas.list, { status: 'running' })).toEqual({ status: 'running' });
  });

  it('adds the path fields', () => {
    expect(queryBody('logs', querySchemas.logs, { after: '5', level: ['error'] }, { jobId: 'j-1' })).toEqual({
      jobId: 'j-1',
      after: 5,
      level: ['error'],
    });
  });

  it("reads the logs query's before as a number and tail as true or false", () => {
    const logs = (query: Record<string, string>) => queryBody('logs', querySchemas.logs, query, { jobId: 'j-1' });
    expect(logs({ before: '40', limit: '100' })).toEqual({ jobId: 'j-1', before: 40, limit: 100 });
    expect(logs({ tail: 'true' })).toEqual({ jobId: 'j-1', tail: true });
    expect(logs({ tail: 'false', after: '5' })).toEqual({ jobId: 'j-1', tail: false, after: 5 });
    expect(refusal(() => logs({ tail: 'yes' }))).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: 'tail' }] });
    expect(refusal(() => logs({ after: '5', before: '40' })).message).toContain('logs takes one of after, before and tail');
  });

  it('refuses what the query schema refuses, saying which parameter', () => {
    expect(refusal(() => queryBody('list', querySchemas.list, { limit: 'ten' }))).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ path: 'limit' }],
    });
    expect(refusal(() => queryBody('list', querySchemas.list, { limit: '501' }))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(refusal(() => queryBody('list', querySchemas.list, { status: 'finishd' })).message).toContain('is not a status');
    expect(refusal(() => queryBody('list', querySchemas.list, { kind: ['import', 'export'] }))).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(refusal(() => queryBody('list', querySchemas.list, { colour: 'red' }))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(refusal(() => queryBody('get', querySchemas.get, { jobId: 'other' }, { jobId: 'j-1' }))).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});

describe('expectedVersionFrom (If-Match)', () => {
  it('takes an entity tag or a bare number, and * as no version', () => {
    expect(expectedVersionFrom('"3"')).toBe(3);
    expect(expectedVersionFrom('3')).toBe(3);
    expect(expectedVersionFrom(' "0" ')).toBe(0);
    expect(expectedVersionFrom('*')).toBeUndefined();
    expect(expectedVersionFrom(undefined)).toBeUndefined();
  });

  it('refuses a weak tag, a list, text and a number too large to be exact', () => {
    for (const value of ['W/"3"', '"3", "4"', 'three', '-1', '"3.5"', '99999999999999999999']) {
      expect(refusal(() => expectedVersionFrom(value))).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: 'If-Match' }] });
    }
    expect(refusal(() => expectedVersionFrom(['"1"', '"2"']))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('commandBody', () => {
  it('takes the job id from the path, the command id from Idempotency-Key and the version from If-Match', () => {
    expect(commandBody('start', {}, { 'idempotency-key': 'k-1', 'if-match': '"2"' }, 'alice', 'j-1')).toEqual({
      jobId: 'j-1',
      commandId: 'k-1',
      expectedVersion: 2,
    });
  });

  it('takes an empty body as none, and the actor when it is the logged-in user, leaving it to the subject', () => {
    expect(commandBody('pause', undefined, {}, 'alice', 'j-1')).toEqual({ jobId: 'j-1' });
    expect(commandBody('create', { label: 'Nightly', kind: 'import', actor: 'alice' }, {}, 'alice')).toEqual({
      label: 'Nightly',
      kind: 'import',
    });
  });

  it('refuses another actor with FORBIDDEN', () => {
    expect(refusal(() => commandBody('create', { label: 'Nightly', kind: 'import', actor: 'bob' }, {}, 'alice'))).toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('refuses a body that contradicts the path or the headers, and a body that is no object', () => {
    expect(refusal(() => commandBody('start', { jobId: 'j-2' }, {}, 'alice', 'j-1'))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(refusal(() => commandBody('start', { commandId: 'a' }, { 'idempotency-key': 'b' }, 'alice', 'j-1'))).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(refusal(() => commandBody('start', { expectedVersion: 1 }, { 'if-match': '2' }, 'alice', 'j-1'))).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(refusal(() => commandBody('start', [1], {}, 'alice', 'j-1'))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(refusal(() => commandBody('start', 'start', {}, 'alice', 'j-1'))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('refuses what the command schema refuses', () => {
    expect(refusal(() => commandBody('create', { label: '', kind: 'import' }, {}, 'alice'))).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ path: 'label' }],
    });
    expect(refusal(() => commandBody('start', { colour: 'red' }, {}, 'alice', 'j-1'))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
