import { describe, expect, it } from 'vitest';
import { parseExportDefinition, parseImportDefinition } from './definitions.js';
import { WorkerError } from './errors.js';

const refusal = (parse: () => unknown) => {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkerError);
    return `${(error as WorkerError).code}: ${(error as WorkerError).message}`;
  }
  throw new Error('accepted');
};

describe('import definitions', () => {
  it('fill in the defaults', () => {
    expect(parseImportDefinition({ source: { file: 'people.csv' }, table: 'people', columns: [{ name: 'email' }] })).toEqual({
      source: { file: 'people.csv' },
      table: 'people',
      csv: { delimiter: ',', quote: '"', header: true, encoding: 'utf-8' },
      columns: [{ name: 'email', type: 'text', required: false }],
      mode: 'insert',
      batchSize: 10_000,
    });
  });

  it('are refused with every problem named, as DEFINITION_INVALID', () => {
    expect(refusal(() => parseImportDefinition({ source: { path: 'x' }, table: '', columns: [] }))).toMatch(
      /^DEFINITION_INVALID: the import definition is not valid: source: .*; table: .*; columns: at least one column to import\. Update the job's definition\.$/,
    );
    expect(refusal(() => parseImportDefinition({ source: { file: 'a' }, table: 't', columns: [{ name: 'a', type: 'money' }] }))).toContain(
      'columns.0.type: a column type is one of text, integer, decimal, boolean, date, timestamp, email',
    );
    expect(
      refusal(() => parseImportDefinition({ source: { file: 'a' }, table: 't', columns: [{ name: 'a' }], csv: { encoding: 'klingon' } })),
    ).toContain('csv.encoding: is not an encoding iconv-lite knows');
  });

  it('need a key among the columns to upsert, positions without a header, distinct columns', () => {
    const base = { source: { object: 'people.csv' }, table: 't' };
    expect(refusal(() => parseImportDefinition({ ...base, columns: [{ name: 'a' }], mode: 'upsert' }))).toContain(
      'key: upsert needs a key',
    );
    expect(refusal(() => parseImportDefinition({ ...base, columns: [{ name: 'a' }], mode: 'upsert', key: ['b'] }))).toContain(
      'key column "b" is not among the imported columns',
    );
    expect(refusal(() => parseImportDefinition({ ...base, columns: [{ name: 'a' }], csv: { header: false } }))).toContain(
      'columns.0.from: the file has no header row: give column "a" its position',
    );
    expect(refusal(() => parseImportDefinition({ ...base, columns: [{ name: 'a' }, { name: 'a', from: 'b' }] }))).toContain(
      'column "a" is mapped twice',
    );
  });
});

describe('export definitions', () => {
  it('name a table or a query, not both', () => {
    expect(parseExportDefinition({ table: 'people', target: { file: 'out.csv' } })).toEqual({
      table: 'people',
      target: { file: 'out.csv' },
      csv: { delimiter: ',', quote: '"', header: true },
    });
    expect(refusal(() => parseExportDefinition({ table: 'a', query: 'select 1', target: { file: 'x' } }))).toContain(
      'an export names a table or a query, one of them',
    );
    expect(refusal(() => parseExportDefinition({ target: { file: 'x' } }))).toContain('an export names a table or a query, one of them');
  });
});
