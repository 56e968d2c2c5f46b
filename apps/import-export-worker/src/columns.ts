import type { ColumnType, ImportColumn } from './definitions.js';

/** A value as the database receives it; booleans become 1/0 for SQLite in the database layer. */
export type ColumnValue = string | number | boolean | null;

export type Conversion = { ok: true; value: ColumnValue } | { ok: false; reason: string };

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
// Deliberately loose: one @, no spaces, a dot in the domain. Stricter rules refuse real addresses.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const ok = (value: ColumnValue): Conversion => ({ ok: true, value });
const refuse = (reason: string): Conversion => ({ ok: false, reason });

/**
 * A CSV field as a value of `type`. Text is kept as it is; the other types ignore surrounding spaces.
 * Decimals stay strings, so that no digit is lost on the way to a NUMERIC column; integers beyond
 * 2^53 too. Timestamps without a zone are UTC.
 */
export function convertField(type: ColumnType, field: string): Conversion {
  if (type === 'text') return ok(field);
  const value = field.trim();
  switch (type) {
    case 'integer': {
      if (!INTEGER.test(value)) return refuse('is not an integer');
      const number = Number(value);
      return ok(Number.isSafeInteger(number) ? number : value.replace(/^\+/, ''));
    }
    case 'decimal':
      return DECIMAL.test(value) ? ok(value.replace(/^\+/, '')) : refuse('is not a decimal number');
    case 'boolean': {
      const lower = value.toLowerCase();
      if (TRUE.has(lower)) return ok(true);
      if (FALSE.has(lower)) return ok(false);
      return refuse('is not a boolean (true/false, yes/no, 1/0)');
    }
    case 'date': {
      const match = DATE.exec(value);
      if (!match || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) return refuse('is not a date (YYYY-MM-DD)');
      return ok(value);
    }
    case 'timestamp': {
      const match = TIMESTAMP.exec(value);
      if (!match || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
        return refuse('is not a timestamp (YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM])');
      }
      const [hours, minutes, seconds] = [Number(match[4]), Number(match[5]), Number(match[6] ?? 0)];
      if (hours > 23 || minutes > 59 || seconds > 59) return refuse('is not a timestamp: the time is out of range');
      const zone = match[8]
        ? match[8]
            .toUpperCase()
            .replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')
            .replace(/^([+-]\d{2})$/, '$1:00')
        : 'Z';
      const iso = `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6] ?? '00'}${(match[7] ?? '').slice(0, 4)}${zone}`;
      const time = Date.parse(iso);
      return Number.isNaN(time) ? refuse('is not a timestamp') : ok(new Date(time).toISOString());
    }
    case 'email':
      return EMAIL.test(value) ? ok(value) : refuse('is not an email address');
  }
}

/** An imported column with the position of its field in each line of the file (0-based). */
export interface BoundColumn extends ImportColumn {
  index: number;
}

export type RowConversion = { ok: true; row: Record<string, ColumnValue> } | { ok: false; reason: string };

/**
 * A line's fields as a row of the table, or why the line is rejected: every failing column is
 * named. An empty field (or one the line lacks) is no value: NULL, or a reject when required.
 */
export function convertLine(columns: readonly BoundColumn[], fields: readonly string[]): RowConversion {
  const row: Record<string, ColumnValue> = {};
  const problems: string[] = [];
  for (const column of columns) {
    const field = fields[column.index] ?? '';
    if (field.trim() === '') {
      if (column.required) problems.push(`${column.name} is required`);
      row[column.name] = null;
      continue;
    }
    const converted = convertField(column.type, field);
    if (converted.ok) row[column.name] = converted.value;
    else problems.push(`${column.name}: ${JSON.stringify(field.length > 100 ? `${field.slice(0, 100)}…` : field)} ${converted.reason}`);
  }
  return problems.length ? { ok: false, reason: problems.join('; ') } : { ok: true, row };
}
