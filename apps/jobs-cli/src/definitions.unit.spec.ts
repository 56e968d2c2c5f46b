import { TimeoutError } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { JobsError } from '#client';
import { headerNames } from './csv-header.js';
import {
  columnsFromHeader,
  exportDefinition,
  importDefinition,
  parseColumnMap,
  parseDefinition,
  parseRejectPolicy,
  parseTime,
} from './definitions.js';
import { describeFailure, EXIT, exitCodeForStatus, UsageError } from './exit-codes.js';

const csv = { delimiter: ',', quote: '"', header: true, encoding: 'utf-8' };

describe('--map', () => {
  it('reads from:name[:type][:required], a column number as a number, text by default', () => {
    expect(parseColumnMap(['E-mail:email:email:required', '3:age:integer', 'city', 'Name:name'])).toEqual([
      { from: 'E-mail', name: 'email', type: 'email', required: true },
      { from: 3, name: 'age', type: 'integer' },
      { from: 'city', name: 'city', type: 'text' },
      { from: 'Name', name: 'name', type: 'text' },
    ]);
  });

  it('refuses an unknown type, a flag other than required, too many parts, and a name mapped twice', () => {
    expect(() => parseColumnMap(['a:b:number'])).toThrow(/"number" is not a column type \(text, integer/);
    expect(() => parseColumnMap(['a:b:text:optional'])).toThrow(/"optional" is not "required"/);
    expect(() => parseColumnMap(['a:b:text:required:x'])).toThrow(UsageError);
    expect(() => parseColumnMap([':b'])).toThrow(UsageError);
    expect(() => parseColumnMap(['a:x', 'b:x'])).toThrow(/"x" is mapped twice/);
  });

  it('without --map, maps every header column as text under its name', () => {
    expect(columnsFromHeader(headerNames('\uFEFFE-mail;"Full; name"\r\nx;y\n', { delimiter: ';', quote: '"' }))).toEqual([
      { from: 'E-mail', name: 'E-mail', type: 'text' },
      { from: 'Full; name', name: 'Full; name', type: 'text' },
    ]);
    expect(() => columnsFromHeader(['a', ''])).toThrow(/column 2 of the header line has no name/);
  });
});

describe('job definitions', () => {
  const columns = parseColumnMap(['E-mail:email:email:required', 'Name:name']);

  it('an import: the worker’s shape, a key only for upsert', () => {
    expect(
      importDefinition({ table: 'people', source: { object: 'imports/j/people.csv' }, csv, columns, mode: 'upsert', key: ['email'] }),
    ).toEqual({
      source: { object: 'imports/j/people.csv' },
      table: 'people',
      csv,
      columns,
      mode: 'upsert',
      key: ['email'],
    });
    const insert = importDefinition({ table: 'people', source: { file: 'people.csv' }, csv, columns, mode: 'insert', batchSize: 500 });
    expect(insert).toMatchObject({ mode: 'insert', batchSize: 500 });
    expect(insert).not.toHaveProperty('key');
  });

  it('refuses an upsert without a key, a key that is not mapped, and header names without a header', () => {
    const base = { table: 'people', source: { object: 'o' }, csv, columns };
    expect(() => importDefinition({ ...base, mode: 'upsert' })).toThrow(/needs --key/);
    expect(() => importDefinition({ ...base, mode: 'upsert', key: ['id'] })).toThrow(/--key id: not a mapped column \(email, name\)/);
    expect(() => importDefinition({ ...base, mode: 'insert', key: ['email'] })).toThrow(/--key goes with --mode upsert/);
    expect(() => importDefinition({ ...base, csv: { ...csv, header: false }, mode: 'insert' })).toThrow(/map the columns by number/);
  });

  it('an export: a table or a query, not both', () => {
    expect(exportDefinition({ table: 'people', target: { object: 'o' }, csv })).toEqual({ table: 'people', target: { object: 'o' }, csv });
    expect(exportDefinition({ query: 'SELECT 1', target: { object: 'o' }, csv })).toEqual({
      query: 'SELECT 1',
      target: { object: 'o' },
      csv,
    });
    expect(() => exportDefinition({ table: 't', query: 'SELECT 1', target: { object: 'o' }, csv })).toThrow(/one of them/);
    expect(() => exportDefinition({ target: { object: 'o' }, csv })).toThrow(UsageError);
  });

  it('reads --definition as JSON or @file, --max-rejects as a count or none, a day as midnight UTC', () => {
    expect(parseDefinition('{"table":"people"}', () => '')).toEqual({ table: 'people' });
    expect(parseDefinition('@def.json', (path) => (path === 'def.json' ? '{"a":1}' : ''))).toEqual({ a: 1 });
    expect(() => parseDefinition('[1]', () => '')).toThrow(/a JSON object/);
    expect(() => parseDefinition('{', () => '')).toThrow(/not JSON/);
    expect(parseRejectPolicy('none')).toEqual({ maxRejects: null });
    expect(parseRejectPolicy('150')).toEqual({ maxRejects: 150 });
    expect(() => parseRejectPolicy('-1')).toThrow(UsageError);
    expect(parseTime('--created-after')('2024-03-01')).toBe('2024-03-01T00:00:00.000Z');
    expect(parseTime('--created-after')('2024-03-01T10:00:00+02:00')).toBe('2024-03-01T08:00:00.000Z');
    expect(() => parseTime('--created-after')('yesterday')).toThrow(/not a time/);
  });
});

describe('exit codes', () => {
  const target = { servers: 'nats://127.0.0.1:4299', subjectPrefix: 'jobs' };

  it('0 for a finished job, 1 for one that ended with an error or was cancelled', () => {
    expect(exitCodeForStatus('finished')).toBe(EXIT.ok);
    expect(exitCodeForStatus('finished_with_error')).toBe(EXIT.failed);
    expect(exitCodeForStatus('cancelled')).toBe(EXIT.failed);
  });

  it('a refused command is 1 with its code, a refused value 2, a usage error 2', () => {
    const refused = new JobsError({
      code: 'INVALID_TRANSITION',
      message: 'a finished job cannot start',
      status: 'finished',
      command: 'start',
    });
    expect(describeFailure(refused, target)).toEqual({ message: 'INVALID_TRANSITION: a finished job cannot start', exitCode: 1 });
    expect(describeFailure(new JobsError({ code: 'VALIDATION_FAILED', message: 'limit: too big' }), target).exitCode).toBe(2);
    expect(describeFailure(new UsageError('--key goes with --mode upsert'), target)).toEqual({
      message: '--key goes with --mode upsert',
      exitCode: 2,
    });
  });

  it('says NATS cannot be reached, or the service does not answer, in plain words', () => {
    const refused = Object.assign(new Error('connection refused'), {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    expect(describeFailure(refused, target)).toEqual({
      message: 'cannot reach NATS at nats://127.0.0.1:4299: is the service running?',
      exitCode: 1,
    });
    const noService = new JobsError({ code: 'UNAVAILABLE', message: 'no responders' }, { cause: new Error('503') });
    expect(describeFailure(noService, target).message).toBe(
      'no jobs service answers on NATS at nats://127.0.0.1:4299 (subjects jobs.*): is the service running?',
    );
    const slow = new JobsError({ code: 'TIMEOUT', message: 'timeout' }, { cause: new TimeoutError() });
    expect(describeFailure(slow, target).message).toMatch(/did not answer in time/);
  });
});
