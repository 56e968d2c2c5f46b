import type { ColumnType, ImportColumn } from './definitions.js';
import { DECODED, NON_ASCII, type TextForm } from './text-form.js';

/** A value as the database receives it; booleans become 1/0 for SQLite in the database layer. */
export type ColumnValue = string | number | boolean | null;

export type Conversion = { ok: true; value: ColumnValue } | { ok: false; reason: string };

/** Why a field is refused; one instance a rule, so that a refusal allocates nothing. */
class Refusal {
  constructor(readonly reason: string) {}
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
// Deliberately loose: one @, no spaces, a dot in the domain. Stricter rules refuse real addresses.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

const NOT_INTEGER = new Refusal('is not an integer');
const NOT_DECIMAL = new Refusal('is not a decimal number');
const NOT_BOOLEAN = new Refusal('is not a boolean (true/false, yes/no, 1/0)');
const NOT_DATE = new Refusal('is not a date (YYYY-MM-DD)');
const NOT_TIMESTAMP = new Refusal('is not a timestamp (YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM])');
const TIME_OUT_OF_RANGE = new Refusal('is not a timestamp: the time is out of range');
const NOT_EMAIL = new Refusal('is not an email address');

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

/** The number written by the `count` ASCII digits at `at`, or -1. */
export function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return -1;
    value = value * 10 + code;
  }
  return value;
}

const DASH = 45;
const COLON = 58;

/** Whether YYYY-MM-DD at `at` is a day of the calendar. */
export function calendarDate(text: string, at: number): boolean {
  if (text.charCodeAt(at + 4) !== DASH || text.charCodeAt(at + 7) !== DASH) return false;
  return isCalendarDate(digits(text, at, 4), digits(text, at + 5, 2), digits(text, at + 8, 2));
}

function readDate(value: string): ColumnValue | Refusal {
  return value.length === 10 && calendarDate(value, 0) ? value : NOT_DATE;
}

function readTimestamp(value: string): ColumnValue | Refusal {
  return readUtcTimestamp(value) ?? readZonedTimestamp(value);
}

/**
 * The usual UTC shapes, `YYYY-MM-DD[T ]HH:MM[:SS[.f]][Z]`, read character by character (the bulk of
 * an import's timestamps); null for any other shape, which the pattern then reads.
 */
function readUtcTimestamp(value: string): ColumnValue | Refusal | null {
  let end = value.length;
  const last = value.charCodeAt(end - 1);
  if (last === 90 || last === 122) end--;
  const separator = value.charCodeAt(10);
  if (end < 16 || !(separator === 84 || separator === 116 || separator === 32) || value.charCodeAt(13) !== COLON) return null;
  if (value.charCodeAt(4) !== DASH || value.charCodeAt(7) !== DASH) return null;
  let seconds = '00';
  let milliseconds = '000';
  if (end > 16) {
    if (end < 19 || value.charCodeAt(16) !== COLON) return null;
    seconds = value.slice(17, 19);
    if (end > 19) {
      if (end < 21 || end > 29 || value.charCodeAt(19) !== 46 || digits(value, 20, end - 20) < 0) return null;
      milliseconds = `${value.slice(20, Math.min(end, 23))}00`.slice(0, 3);
    }
  }
  const [year, month, day] = [digits(value, 0, 4), digits(value, 5, 2), digits(value, 8, 2)];
  const [hours, minutes, second] = [digits(value, 11, 2), digits(value, 14, 2), digits(seconds, 0, 2)];
  if (year < 0 || month < 0 || day < 0 || hours < 0 || minutes < 0 || second < 0) return null;
  if (!isCalendarDate(year, month, day)) return NOT_TIMESTAMP;
  if (hours > 23 || minutes > 59 || second > 59) return TIME_OUT_OF_RANGE;
  return `${value.slice(0, 10)}T${value.slice(11, 16)}:${seconds}.${milliseconds}Z`;
}

function readZonedTimestamp(value: string): ColumnValue | Refusal {
  const match = TIMESTAMP.exec(value);
  if (!match || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) return NOT_TIMESTAMP;
  const [hours, minutes, seconds] = [Number(match[4]), Number(match[5]), Number(match[6] ?? 0)];
  if (hours > 23 || minutes > 59 || seconds > 59) return TIME_OUT_OF_RANGE;
  const zone = match[8]
    ? match[8]
        .toUpperCase()
        .replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')
        .replace(/^([+-]\d{2})$/, '$1:00')
    : 'Z';
  const iso = `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6] ?? '00'}${(match[7] ?? '').slice(0, 4)}${zone}`;
  const time = Date.parse(iso);
  return Number.isNaN(time) ? NOT_TIMESTAMP : new Date(time).toISOString();
}

/** Reads a field already trimmed of spaces (text is not trimmed). */
type Reader = (value: string) => ColumnValue | Refusal;

const READERS: Record<ColumnType, Reader> = {
  text: (value) => value,
  integer: (value) => {
    if (!INTEGER.test(value)) return NOT_INTEGER;
    const number = Number(value);
    return Number.isSafeInteger(number) ? number : value.replace(/^\+/, '');
  },
  decimal: (value) => (DECIMAL.test(value) ? (value.charCodeAt(0) === 43 ? value.slice(1) : value) : NOT_DECIMAL),
  boolean: (value) => {
    const lower = value.toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
    return NOT_BOOLEAN;
  },
  date: readDate,
  timestamp: readTimestamp,
  email: (value) => (EMAIL.test(value) ? value : NOT_EMAIL),
};

function read(type: ColumnType, field: string, form: TextForm): ColumnValue | Refusal {
  if (type === 'text') return field;
  // Held as bytes, a field's spaces beyond ASCII (at its ends) or an email's letters beyond ASCII read
  // otherwise than decoded: such a field is read decoded, and its value given back as bytes.
  if (
    form !== DECODED &&
    (type === 'email' ? NON_ASCII.test(field) : field.charCodeAt(0) > 0x7f || field.charCodeAt(field.length - 1) > 0x7f)
  ) {
    const value = READERS[type](form.decode(field).trim());
    return typeof value === 'string' ? form.encode(value) : value;
  }
  return READERS[type](field.trim());
}

/**
 * A CSV field as a value of `type`. Text is kept as it is; the other types ignore surrounding spaces.
 * Decimals stay strings, so that no digit is lost on the way to a NUMERIC column; integers beyond
 * 2^53 too. Timestamps without a zone are UTC.
 */
export function convertField(type: ColumnType, field: string, form: TextForm = DECODED): Conversion {
  const value = read(type, field, form);
  return value instanceof Refusal ? { ok: false, reason: value.reason } : { ok: true, value };
}

/** An imported column with the position of its field in each line of the file (0-based). */
export interface BoundColumn extends ImportColumn {
  index: number;
}

/** A line's values in the order of the columns. */
export type RowValues = ColumnValue[];

export type RowConversion = { ok: true; values: RowValues } | { ok: false; reason: string };

/** Whether a field is empty or only spaces; most fields tell by their first character, without a trimmed copy. */
function isBlank(field: string, form: TextForm): boolean {
  if (field.length === 0) return true;
  const first = field.charCodeAt(0);
  if (first > 32 && first < 127) return false;
  return form.decode(field).trim() === '';
}

/**
 * A line's fields as the values of the columns, or why the line is rejected: every failing column
 * is named. An empty field (or one the line lacks) is no value: NULL, or a reject when required.
 */
export function convertLine(columns: readonly BoundColumn[], fields: readonly string[], form: TextForm = DECODED): RowConversion {
  const values: RowValues = new Array(columns.length);
  const problems: string[] = [];
  for (let c = 0; c < columns.length; c++) {
    const column = columns[c]!;
    const field = fields[column.index] ?? '';
    if (isBlank(field, form)) {
      if (column.required) problems.push(`${column.name} is required`);
      values[c] = null;
      continue;
    }
    const value = read(column.type, field, form);
    if (value instanceof Refusal) {
      const text = form.decode(field);
      problems.push(`${column.name}: ${JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text)} ${value.reason}`);
    } else values[c] = value;
  }
  return problems.length ? { ok: false, reason: problems.join('; ') } : { ok: true, values };
}

/** A row as an object keyed by column name, as the query builder takes it. */
export function rowObject(columns: readonly string[], values: RowValues): Record<string, ColumnValue> {
  const row: Record<string, ColumnValue> = {};
  for (let c = 0; c < columns.length; c++) row[columns[c]!] = values[c] ?? null;
  return row;
}
