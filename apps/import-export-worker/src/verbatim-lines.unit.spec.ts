import { describe, expect, it } from 'vitest';
import { type BoundColumn, convertLine } from './columns.js';
import type { ColumnType } from './definitions.js';
import { isVerbatim, verbatimPlan } from './verbatim-lines.js';

const column = (name: string, type: ColumnType, index: number): BoundColumn => ({ name, type, index, required: false });
const CSV = { delimiter: ',', quote: '"' };

describe('the plan for lines written as they are', () => {
  it('takes the columns in the order of the fields, when every field is a column once', () => {
    const plan = verbatimPlan([column('b', 'text', 1), column('a', 'integer', 0)], 2, new Map(), CSV);
    expect(plan?.columnsInFileOrder).toEqual(['a', 'b']);
  });

  it.each([
    ['a field of the file is no column', [column('a', 'text', 0)], 2, CSV],
    ['a field is two columns', [column('a', 'text', 0), column('b', 'text', 0)], 1, CSV],
    ['the delimiter is unusual', [column('a', 'text', 0)], 1, { delimiter: '#', quote: '"' }],
  ])('has none when %s', (_, columns, fieldCount, csv) => {
    expect(verbatimPlan(columns, fieldCount, new Map(), csv)).toBeNull();
  });
});

describe('a valid line written as it is', () => {
  /** Whether `field`, of `type`, into a column of `sqlType`, goes as written. */
  const goesAsWritten = (type: ColumnType, sqlType: string, field: string, fields = [field]) => {
    const columns = fields.map((_, index) => column(`c${index}`, index === 0 ? type : 'text', index));
    const plan = verbatimPlan(columns, fields.length, new Map([['c0', sqlType]]), CSV)!;
    const converted = convertLine(columns, fields);
    if (!converted.ok) throw new Error(converted.reason);
    return isVerbatim(plan, fields, converted.values);
  };

  it.each([
    ['text', 'text', 'Zoë, "quoted"'],
    ['text', 'integer', '42'],
    ['integer', 'integer', '+007'],
    ['integer', 'bigint', '-12'],
    ['decimal', 'numeric', '-1.5e3'],
    ['boolean', 'boolean', 'yes'],
    ['boolean', 'boolean', 'F'],
    ['date', 'date', '2024-02-29'],
    ['timestamp', 'timestamp with time zone', '2024-01-02T03:04:05.123Z'],
    ['timestamp', 'timestamp without time zone', '2024-01-02 03:04Z'],
    ['email', 'character varying', 'zoë@example.org'],
    ['text', 'text', ''],
  ] as [ColumnType, string, string][])('%s into %s: %j', (type, sqlType, field) => {
    expect(goesAsWritten(type, sqlType, field)).toBe(true);
  });

  it.each([
    ['text', 'text', '  ', 'spaces, NULL for the worker'],
    ['integer', 'text', '+7', 'an integer into text, where +7 would stay +7'],
    ['integer', 'integer', ' 7', 'spaces at its ends'],
    ['decimal', 'numeric', '+1.5', 'a sign the worker drops'],
    ['boolean', 'text', 'yes', 'a boolean into text'],
    ['timestamp', 'timestamp with time zone', '2024-01-02T03:04:05.1234Z', 'finer than milliseconds'],
    ['timestamp', 'timestamp with time zone', '2024-01-02T03:04:05+02:00', 'another zone'],
    ['timestamp', 'timestamp with time zone', '2024-01-02T03:04:05', 'no zone, UTC for the worker'],
    ['timestamp', 'text', '2024-01-02T03:04:05Z', 'a timestamp into text'],
    ['text', 'text', '\\.', "a backslash first, as in COPY's end of data"],
  ] as [ColumnType, string, string, string][])('not %s into %s: %j (%s)', (type, sqlType, field) => {
    expect(goesAsWritten(type, sqlType, field)).toBe(false);
  });

  it('not when the line has more fields than the columns', () => {
    const columns = [column('a', 'text', 0)];
    const plan = verbatimPlan(columns, null, new Map(), CSV)!;
    expect(isVerbatim(plan, ['x', 'y'], ['x'])).toBe(false);
  });
});
