import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertField, convertLine } from './columns.js';
import { UTF8_BYTES } from './text-form.js';

const value = (type: Parameters<typeof convertField>[0], field: string) => {
  const converted = convertField(type, field);
  return converted.ok ? converted.value : `refused: ${converted.reason}`;
};

describe('column conversion', () => {
  it('keeps text as it is', () => {
    expect(value('text', '  Zoë, "quoted"  ')).toBe('  Zoë, "quoted"  ');
  });

  it('reads integers, large ones as digits so none is lost', () => {
    expect(value('integer', ' 42 ')).toBe(42);
    expect(value('integer', '-7')).toBe(-7);
    expect(value('integer', '+9007199254740993')).toBe('9007199254740993');
    expect(value('integer', '4.2')).toBe('refused: is not an integer');
    expect(value('integer', '12abc')).toBe('refused: is not an integer');
  });

  it('reads decimals as their digits', () => {
    expect(value('decimal', '3.14')).toBe('3.14');
    expect(value('decimal', '-.5')).toBe('-.5');
    expect(value('decimal', '1e3')).toBe('1e3');
    expect(value('decimal', '1,5')).toBe('refused: is not a decimal number');
  });

  it('reads booleans in the usual spellings', () => {
    for (const yes of ['true', 'TRUE', 'yes', 'Y', '1', 't']) expect(value('boolean', yes)).toBe(true);
    for (const no of ['false', 'No', 'n', '0', 'F']) expect(value('boolean', no)).toBe(false);
    expect(value('boolean', 'maybe')).toBe('refused: is not a boolean (true/false, yes/no, 1/0)');
  });

  it('reads calendar dates only', () => {
    expect(value('date', '2024-02-29')).toBe('2024-02-29');
    expect(value('date', '2023-02-29')).toBe('refused: is not a date (YYYY-MM-DD)');
    expect(value('date', '29/02/2024')).toBe('refused: is not a date (YYYY-MM-DD)');
  });

  it('reads timestamps as UTC instants, UTC when no zone is given', () => {
    expect(value('timestamp', '2024-03-01T10:20:30Z')).toBe('2024-03-01T10:20:30.000Z');
    expect(value('timestamp', '2024-03-01 10:20')).toBe('2024-03-01T10:20:00.000Z');
    expect(value('timestamp', '2024-03-01T10:20:30.123456+02:00')).toBe('2024-03-01T08:20:30.123Z');
    expect(value('timestamp', '2024-03-01T10:20:30-0130')).toBe('2024-03-01T11:50:30.000Z');
    expect(value('timestamp', '2024-03-01T25:00:00Z')).toBe('refused: is not a timestamp: the time is out of range');
    expect(value('timestamp', '2024-13-01T10:00:00Z')).toMatch(/^refused: is not a timestamp/);
    expect(value('timestamp', 'yesterday')).toMatch(/^refused: is not a timestamp/);
  });

  it('reads email addresses', () => {
    expect(value('email', ' ada@example.org ')).toBe('ada@example.org');
    for (const bad of ['ada', 'ada@', 'ada@example', 'a da@example.org', 'ada@@example.org']) {
      expect(value('email', bad)).toBe('refused: is not an email address');
    }
  });
});

describe('a line as a row', () => {
  const columns = [
    { name: 'email', type: 'email' as const, required: true, index: 0 },
    { name: 'age', type: 'integer' as const, required: false, index: 2 },
  ];

  it('maps the fields by position and makes an empty optional field NULL', () => {
    expect(convertLine(columns, ['ada@example.org', 'ignored', ''])).toEqual({ ok: true, values: ['ada@example.org', null] });
    expect(convertLine(columns, ['ada@example.org'])).toEqual({ ok: true, values: ['ada@example.org', null] });
  });

  it('names every column that fails, with its value', () => {
    expect(convertLine(columns, [' ', 'x', 'old'])).toEqual({ ok: false, reason: 'email is required; age: "old" is not an integer' });
  });
});

describe('timestamps read character by character', () => {
  it('give the instant Date gives, for every UTC shape', () => {
    fc.assert(
      fc.property(
        fc.record({
          year: fc.integer({ min: 1000, max: 9999 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 28 }),
          hours: fc.integer({ min: 0, max: 23 }),
          minutes: fc.integer({ min: 0, max: 59 }),
          seconds: fc.option(fc.integer({ min: 0, max: 59 })),
          fraction: fc.option(fc.stringMatching(/^\d{1,9}$/)),
          separator: fc.constantFrom('T', 't', ' '),
          zone: fc.constantFrom('', 'Z', 'z'),
        }),
        ({ year, month, day, hours, minutes, seconds, fraction, separator, zone }) => {
          const two = (n: number) => String(n).padStart(2, '0');
          const time = `${two(hours)}:${two(minutes)}${seconds === null ? '' : `:${two(seconds)}${fraction === null ? '' : `.${fraction}`}`}`;
          const text = `${year}-${two(month)}-${two(day)}${separator}${time}${zone}`;
          const milliseconds = seconds === null || fraction === null ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
          const expected = new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds ?? 0, milliseconds)).toISOString();
          expect(value('timestamp', text)).toBe(expected);
        },
      ),
    );
  });

  it('refuse what the calendar or the clock does not have', () => {
    expect(value('timestamp', '2023-02-29T10:00:00Z')).toBe('refused: is not a timestamp (YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM])');
    expect(value('timestamp', '2024-02-29 23:60')).toBe('refused: is not a timestamp: the time is out of range');
    expect(value('timestamp', '2024-02-29T10:00:00.')).toMatch(/^refused: is not a timestamp/);
    expect(value('timestamp', '2024-02-29T10:00:00.1234567890Z')).toMatch(/^refused: is not a timestamp/);
  });
});

describe('fields of a UTF-8 file, held as bytes', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
  const read = (type: Parameters<typeof convertField>[0], text: string) => {
    const converted = convertField(type, bytes(text), UTF8_BYTES);
    return converted.ok ? converted.value : `refused: ${converted.reason}`;
  };

  it('read as the decoded text reads: spaces beyond ASCII, and email addresses beyond ASCII', () => {
    // à is C3 A0 in UTF-8: A0 alone is a no-break space in latin1.
    expect(read('email', 'zoà@exàmple.fr')).toBe(bytes('zoà@exàmple.fr'));
    expect(read('email', '\u00a0ada@example.org\u00a0')).toBe('ada@example.org');
    expect(read('integer', '42\u00a0')).toBe(42);
    expect(read('integer', '4à')).toBe('refused: is not an integer');
    expect(read('text', ' Zoë ')).toBe(bytes(' Zoë '));
  });

  it('are named decoded in the reason of a refused line', () => {
    const columns = [{ name: 'age', type: 'integer' as const, required: true, index: 0 }];
    expect(convertLine(columns, [bytes('vingt-deux ans, Zoë')], UTF8_BYTES)).toEqual({
      ok: false,
      reason: 'age: "vingt-deux ans, Zoë" is not an integer',
    });
    expect(convertLine(columns, [bytes('\u00a0')], UTF8_BYTES)).toEqual({ ok: false, reason: 'age is required' });
  });
});
