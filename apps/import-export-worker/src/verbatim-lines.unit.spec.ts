import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BoundColumn, convertLine, type RowValues } from './columns.js';
import { splitCsv } from './csv-reader.js';
import type { ColumnType } from './definitions.js';
import { UTF8_BYTES } from './text-form.js';
import { isVerbatim, lineEnd, verbatimPlan } from './verbatim-lines.js';

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

describe('the fast lane', () => {
  const asBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
  const TOKENS: Record<ColumnType, string[]> = {
    integer: ['0', '-0', '007', '+7', '7', ' 7', '-12', '1.5', '', 'x', '9'.repeat(16), '123456789012345'],
    decimal: ['1.5', '+1.5', '-1e3', '.5', '5.', '.', '1e', '1.2.3', '', ' 1', '2E+3'],
    boolean: ['true', 'TRUE', 't', 'Y', 'yes', 'No', 'n', '0', '1', '2', 'tru', '', ' yes', 'ñ'],
    date: ['2024-02-29', '2023-02-29', '2024-13-01', '2024-1-01', '', '2024-02-29 ', '0000-01-01'],
    timestamp: [
      '2024-01-02T03:04:05Z',
      '2024-01-02 03:04Z',
      '2024-01-02T03:04:05.123Z',
      '2024-01-02T03:04:05.1234Z',
      '2024-01-02T24:00:00Z',
      '2024-01-02T03:04:60Z',
      '2024-01-02T03:04:05',
      '2024-01-02T03:04:05+02:00',
      '2024-01-02t03:04:05z',
      '2024-01-02T03:04:05.Z',
      '',
    ],
    email: ['a@b.co', 'a@b', '@b.co', 'a@@b.co', 'a b@c.d', asBytes('zoë@x.org'), 'a"b@c.d', 'a@b..co', '', 'a;b@c.d'],
    text: ['x', '  ', '', ' x', asBytes('é'), 'a,b', 'say "hi"', '\\.', 'line\nbreak', asBytes('\u00a0x'), '"'],
  };
  const TYPES = Object.keys(TOKENS) as ColumnType[];
  const SQL_TYPES = ['integer', 'numeric', 'text', 'boolean', 'timestamp with time zone', 'date'];
  /** The column's type the field's type usually goes to. */
  const USUAL: Record<ColumnType, string> = {
    integer: 'integer',
    decimal: 'numeric',
    boolean: 'boolean',
    date: 'date',
    timestamp: 'timestamp with time zone',
    email: 'text',
    text: 'text',
  };
  const quoted = (field: string) => `"${field.replaceAll('"', '""')}"`;

  it('takes only lines that the usual way finds valid and lets go verbatim', () => {
    const field = (type: ColumnType) =>
      fc.tuple(
        fc.constantFrom(...TOKENS[type]),
        fc.boolean(),
        fc.boolean(),
        fc.oneof(fc.constant(USUAL[type]), fc.constantFrom(...SQL_TYPES)),
      );
    fc.assert(
      fc.property(
        // One to three columns of any types, each a field, quoted or not, required or not, into a column of some type.
        fc
          .array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 3 })
          .chain((types) => fc.tuple(fc.constant(types), fc.tuple(...types.map(field)))),
        // A field fewer or more than the columns, now and then.
        fc.constantFrom(0, 0, 0, -1, 1),
        fc.constantFrom('\n', '\r\n'),
        ([types, picked], extra, lineBreak) => {
          const columns = types.map((type, index) => ({ ...column(`c${index}`, type, index), required: picked[index]![2] }));
          const sqlTypes = new Map(picked.map(([, , , sqlType], index) => [`c${index}`, sqlType]));
          const plan = verbatimPlan(columns, columns.length, sqlTypes, CSV)!;
          const fields = picked.map(([text, quote]) => (quote || /[",\r\n]/.test(text) ? quoted(text) : text));
          if (extra < 0) fields.pop();
          if (extra > 0) fields.push('x');
          const text = `${fields.join(',')}${lineBreak}`;
          // A blank line is no record: the splitter passes it before it asks the lane.
          if (text === lineBreak) return;
          const end = plan.lane ? lineEnd(plan, plan.lane, text, 0) : -1;
          if (end < 0) return;
          expect(end).toBe(text.length);
          const [item] = splitCsv(text);
          expect(item && 'fields' in item).toBe(true);
          const read = item as { fields: string[] };
          const converted = convertLine(columns, read.fields, UTF8_BYTES);
          expect(converted.ok).toBe(true);
          expect(isVerbatim(plan, read.fields, (converted as { values: RowValues }).values)).toBe(true);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('takes the usual lines of an import: quoted text with quotes and commas, every type', () => {
    const columns = TYPES.map((type, index) => column(`c${index}`, type, index));
    const sqlTypes = new Map([
      ['c0', 'integer'],
      ['c2', 'boolean'],
      ['c4', 'timestamp with time zone'],
    ]);
    const plan = verbatimPlan(columns, columns.length, sqlTypes, CSV)!;
    const text = '+42,-1.5e3,Yes,2024-02-29,2024-01-02 03:04:05.1Z,a.b@c.example.org,"said ""hi"", twice"\r\n7,,,,,,x\n';
    expect(lineEnd(plan, plan.lane!, text, 0)).toBe(text.indexOf('\n') + 1);
    expect(lineEnd(plan, plan.lane!, text, text.indexOf('\n') + 1)).toBe(text.length);
  });
});
