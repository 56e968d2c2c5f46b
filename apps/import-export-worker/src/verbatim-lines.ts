import { type BoundColumn, type ColumnValue, calendarDate, digits, type RowValues } from './columns.js';
import type { ColumnType } from './definitions.js';

/**
 * Valid lines that PostgreSQL can take as the file's own bytes, by `COPY ... (FORMAT csv)`, without
 * the worker writing them again: most of an import's lines, and the part of its work that cost the
 * most. A line goes so only where the database then holds exactly what the converted values would
 * give it; any other valid line goes as converted values, as before.
 *
 * A line qualifies when every field of the file is a column, in any order (COPY takes its columns in
 * the file's order), it is one physical line of the piece read, not starting with a backslash
 * (COPY's `\.` ends the data), and each field, as written, means the converted value to its column:
 * - the value is the field itself (text, email, decimal, date, and the like);
 * - or the column's type reads the field as the worker reads it: an integer or boolean field without
 *   spaces at its ends into a numeric or boolean column (PostgreSQL takes `+7`, `007`, `yes`, `1`
 *   alike), a timestamp ending in `Z` with at most milliseconds into a timestamp column;
 * - an empty field is NULL (COPY's NULL is the unquoted empty field, and `""` by FORCE_NULL); a
 *   field of spaces, NULL for the worker, is not.
 */
export interface VerbatimPlan {
  /** The table's columns in the order of the file's fields. */
  columnsInFileOrder: string[];
  /** For each column (in the definition's order): whether a field means its converted value. */
  fits: Fits[];
  /** The field of each column, in the definition's order. */
  fieldOf: number[];
  delimiter: string;
  quote: string;
  /**
   * The fast lane, when every column has checks for it: whether a line of the file is valid and
   * goes verbatim, read where it lies, without its fields or values ever being made (see lineEnd).
   */
  lane: LaneChecks | null;
}

/**
 * Whether the field from `from` to `to` of `text` is valid and means, as written, its converted
 * value. The field may run past its end (a line with fewer fields): a check refuses a line break,
 * the delimiter and the quote, but inside quotes, where only line breaks are refused.
 */
type FieldCheck = (text: string, from: number, to: number) => boolean;

/** For each field of the file: its check as it stands, and inside quotes. */
export interface LaneChecks {
  bare: FieldCheck[];
  quoted: FieldCheck[];
}

type Fits = (field: string, value: ColumnValue) => boolean;

const BACKSLASH = 92;

const same: Fits = (field, value) => value === field;

/** A printable ASCII character other than the space. */
function visible(code: number): boolean {
  return code > SPACE && code < 127;
}

/** No spaces nor bytes beyond ASCII at its ends: what the worker trims, the database may not. */
function trimmed(field: string): boolean {
  return visible(field.charCodeAt(0)) && visible(field.charCodeAt(field.length - 1));
}

const NUMERIC_TYPES = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);
const TIMESTAMP_TYPES = new Set(['timestamp with time zone', 'timestamp without time zone']);
const [ZULU, T, SPACE, COLON, DOT] = [90, 84, 32, 58, 46];

function fitsOf(type: ColumnType, sqlType: string | undefined): Fits {
  if (type === 'integer' && sqlType && NUMERIC_TYPES.has(sqlType)) return (field, value) => value === field || trimmed(field);
  if (type === 'integer') return (field, value) => value === field || (typeof value === 'number' && String(value) === field);
  if (type === 'boolean' && sqlType === 'boolean') return trimmed;
  if (type === 'timestamp' && sqlType && TIMESTAMP_TYPES.has(sqlType)) return (field) => zuluTimestampAt(field, 0, field.length);
  return same;
}

const [CR, LF, PLUS, MINUS, ZERO, NINE, E, LOWER_E, AT] = [13, 10, 43, 45, 48, 57, 69, 101, 64];

function isDigit(code: number): boolean {
  return code >= ZERO && code <= NINE;
}

/** Digits from `from`, up to `to`: where they end. */
function skipDigits(text: string, from: number, to: number): number {
  let at = from;
  while (at < to && isDigit(text.charCodeAt(at))) at++;
  return at;
}

/** `[+-]digits`: any integer a numeric column reads as the worker does. */
const signedInteger: FieldCheck = (text, from, to) => {
  const first = text.charCodeAt(from);
  const digitsFrom = first === PLUS || first === MINUS ? from + 1 : from;
  return digitsFrom < to && skipDigits(text, digitsFrom, to) === to;
};

/** `-?(0|[1-9]digits)`, at most 15 digits: written as the worker writes the number. */
const canonicalInteger: FieldCheck = (text, from, to) => {
  const digitsFrom = text.charCodeAt(from) === MINUS ? from + 1 : from;
  const count = to - digitsFrom;
  if (count < 1 || count > 15 || skipDigits(text, digitsFrom, to) !== to) return false;
  return text.charCodeAt(digitsFrom) !== ZERO || (count === 1 && digitsFrom === from);
};

/** The worker's decimal pattern without a leading +, which it drops. */
const plainDecimal: FieldCheck = (text, from, to) => {
  let at = text.charCodeAt(from) === MINUS ? from + 1 : from;
  const whole = skipDigits(text, at, to);
  let count = whole - at;
  at = whole;
  if (at < to && text.charCodeAt(at) === DOT) {
    const fraction = skipDigits(text, at + 1, to);
    count += fraction - at - 1;
    at = fraction;
  }
  if (count === 0) return false;
  if (at < to && (text.charCodeAt(at) === E || text.charCodeAt(at) === LOWER_E)) {
    const sign = text.charCodeAt(at + 1);
    const exponent = sign === PLUS || sign === MINUS ? at + 2 : at + 1;
    at = skipDigits(text, exponent, to);
    if (at === exponent) return false;
  }
  return at === to;
};

/** Whether the letters at `from` are `word`'s, in any case. */
function isWord(text: string, from: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    const code = text.charCodeAt(from + k);
    if (code !== word.charCodeAt(k) && code !== word.charCodeAt(k) - 32) return false;
  }
  return true;
}

/** The worker's booleans (true/false, t/f, yes/no, y/n, 1/0 in any case), all of which a boolean column reads alike. */
const booleanWord: FieldCheck = (text, from, to) => {
  switch (to - from) {
    case 1: {
      const code = text.charCodeAt(from);
      return (
        code === 49 ||
        code === ZERO ||
        isWord(text, from, 't') ||
        isWord(text, from, 'f') ||
        isWord(text, from, 'y') ||
        isWord(text, from, 'n')
      );
    }
    case 2:
      return isWord(text, from, 'no');
    case 3:
      return isWord(text, from, 'yes');
    case 4:
      return isWord(text, from, 'true');
    case 5:
      return isWord(text, from, 'false');
    default:
      return false;
  }
};

const isoDate: FieldCheck = (text, from, to) => to - from === 10 && calendarDate(text, from);

/**
 * A valid `YYYY-MM-DD[T ]HH:MM[:SS[.f{1,3}]]Z`: the database reads it to the same instant as the
 * worker, milliseconds kept (the worker cuts finer fractions, the database rounds them).
 */
const zuluTimestampAt: FieldCheck = (text, from, to) => {
  const length = to - from;
  const separator = text.charCodeAt(from + 10);
  if (text.charCodeAt(to - 1) !== ZULU || !(separator === T || separator === SPACE) || text.charCodeAt(from + 13) !== COLON) return false;
  if (!(length === 17 || length === 20 || (length >= 22 && length <= 24))) return false;
  if (length >= 22 && (text.charCodeAt(from + 19) !== DOT || skipDigits(text, from + 20, to - 1) !== to - 1)) return false;
  if (length >= 20 && text.charCodeAt(from + 16) !== COLON) return false;
  const [hours, minutes, seconds] = [digits(text, from + 11, 2), digits(text, from + 14, 2), length >= 20 ? digits(text, from + 17, 2) : 0];
  return calendarDate(text, from) && hours >= 0 && hours <= 23 && minutes >= 0 && minutes <= 59 && seconds >= 0 && seconds <= 59;
};

const [COMMA, SEMICOLON, PIPE, DOUBLE_QUOTE, SINGLE_QUOTE] = [44, 59, 124, 34, 39];

/** The worker's email pattern, in ASCII without control characters, nor any delimiter or quote. */
const plainEmail: FieldCheck = (text, from, to) => {
  let at = -1;
  for (let k = from; k < to; k++) {
    const code = text.charCodeAt(k);
    if (
      code <= SPACE ||
      code >= 127 ||
      code === COMMA ||
      code === SEMICOLON ||
      code === PIPE ||
      code === DOUBLE_QUOTE ||
      code === SINGLE_QUOTE
    )
      return false;
    if (code === AT) {
      if (at >= 0) return false;
      at = k;
    }
  }
  if (at <= from) return false;
  let labels = 0;
  let label = at + 1;
  for (let k = at + 1; k <= to; k++) {
    if (k < to && text.charCodeAt(k) !== DOT) continue;
    if (k === label) return false;
    labels++;
    label = k + 1;
  }
  return labels >= 2;
};

/** Whether text is not blank, told by its first character as isBlank does. */
function notBlank(text: string, from: number): boolean {
  return visible(text.charCodeAt(from));
}

/** Text as it stands: no line break, delimiter nor quote in it. */
function bareText(delimiter: number, quote: number): FieldCheck {
  return (text, from, to) => {
    if (!notBlank(text, from)) return false;
    for (let k = from; k < to; k++) {
      const code = text.charCodeAt(k);
      if (code === delimiter || code === CR || code === LF || code === quote) return false;
    }
    return true;
  };
}

/** Text inside quotes: no line break in it. */
const quotedText: FieldCheck = (text, from, to) => {
  if (!notBlank(text, from)) return false;
  for (let k = from + 1; k < to; k++) {
    const code = text.charCodeAt(k);
    if (code === CR || code === LF) return false;
  }
  return true;
};

/** The check of a field of `type` into a column of `sqlType`, as it stands; none where the lane cannot tell. Text is told apart by the caller. */
function typedCheckOf(type: Exclude<ColumnType, 'text'>, sqlType: string | undefined): FieldCheck | null {
  const numeric = sqlType !== undefined && NUMERIC_TYPES.has(sqlType);
  switch (type) {
    case 'integer':
      return numeric ? signedInteger : canonicalInteger;
    case 'decimal':
      return plainDecimal;
    case 'boolean':
      return sqlType === 'boolean' ? booleanWord : null;
    case 'date':
      return isoDate;
    case 'timestamp':
      return sqlType && TIMESTAMP_TYPES.has(sqlType) ? zuluTimestampAt : null;
    case 'email':
      return plainEmail;
  }
}

/** The usual delimiters and quotes, which COPY takes as they are. */
const DELIMITERS = /^[,;|\t]$/;
const QUOTES = /^["']$/;

/**
 * The plan for a job's lines, or null when none can go verbatim: a column not in the file's order
 * of fields one for one, or an unusual delimiter or quote. `sqlTypes` are the table's columns'
 * types as information_schema names them.
 */
export function verbatimPlan(
  columns: readonly BoundColumn[],
  fieldCount: number | null,
  sqlTypes: ReadonlyMap<string, string>,
  csv: { delimiter: string; quote: string },
): VerbatimPlan | null {
  if (!DELIMITERS.test(csv.delimiter) || !QUOTES.test(csv.quote)) return null;
  const byField = [...columns].sort((a, b) => a.index - b.index);
  if (byField.some((column, position) => column.index !== position) || (fieldCount !== null && fieldCount !== columns.length)) return null;
  const emptyOr = (column: BoundColumn, check: FieldCheck | null) => check && (column.required ? nonEmpty(check) : orEmpty(check));
  const text = bareText(csv.delimiter.charCodeAt(0), csv.quote.charCodeAt(0));
  const bare = byField.map((column) =>
    emptyOr(column, column.type === 'text' ? text : typedCheckOf(column.type, sqlTypes.get(column.name))),
  );
  // A typed check refuses the quote and line breaks anyway: the same inside quotes.
  const quoted = byField.map((column, f) => (column.type === 'text' ? emptyOr(column, quotedText) : bare[f]!));
  return {
    columnsInFileOrder: byField.map((column) => column.name),
    fits: columns.map((column) => fitsOf(column.type, sqlTypes.get(column.name))),
    fieldOf: columns.map((column) => column.index),
    delimiter: csv.delimiter,
    quote: csv.quote,
    lane: bare.every((check) => check !== null) ? { bare: bare as FieldCheck[], quoted: quoted as FieldCheck[] } : null,
  };
}

/** An empty field is NULL, as COPY reads it; a reject when the column is required. */
function orEmpty(check: FieldCheck): FieldCheck {
  return (text, from, to) => from === to || check(text, from, to);
}

function nonEmpty(check: FieldCheck): FieldCheck {
  return (text, from, to) => from < to && check(text, from, to);
}

/**
 * The fast lane: where the line at `start` of `text` ends (after its line break) when it is valid
 * and goes verbatim, as convertLine and isVerbatim would find it; -1 for any line it does not
 * settle that way (a line break in a field, a field it cannot read fast, a line the piece does not
 * hold whole), which the splitter then reads as usual. Checks only what the
 * usual way would accept, so that a line is never written that the usual way would refuse.
 */
export function lineEnd(plan: VerbatimPlan, checks: LaneChecks, text: string, start: number): number {
  const delimiter = plan.delimiter.charCodeAt(0);
  const quote = plan.quote.charCodeAt(0);
  const { length } = text;
  const { bare, quoted } = checks;
  const last = bare.length - 1;
  // As isVerbatim, which sees the first field without its quotes.
  if (text.charCodeAt(start) === BACKSLASH || (text.charCodeAt(start) === quote && text.charCodeAt(start + 1) === BACKSLASH)) return -1;
  let at = start;
  for (let f = 0; f <= last; f++) {
    if (text.charCodeAt(at) === quote) {
      // A quoted field ends at a quote not doubled; the field as checked keeps its doubled quotes.
      let to = text.indexOf(plan.quote, at + 1);
      while (to >= 0 && text.charCodeAt(to + 1) === quote) to = text.indexOf(plan.quote, to + 2);
      if (to < 0 || !quoted[f]!(text, at + 1, to)) return -1;
      at = to + 1;
    } else {
      // Up to the next delimiter, or the line break for the last field (the checks refuse what runs past the field).
      let to = text.indexOf(f < last ? plan.delimiter : '\n', at);
      if (to < 0) return -1;
      if (f === last && to > at && text.charCodeAt(to - 1) === CR) to--;
      if (!bare[f]!(text, at, to)) return -1;
      at = to;
    }
    if (at >= length) return -1;
    const next = text.charCodeAt(at);
    if (f < last) {
      if (next !== delimiter) return -1;
      at++;
    } else if (next === LF) return at + 1;
    else if (next === CR) return at + 1 < length ? at + 1 + Number(text.charCodeAt(at + 1) === LF) : -1;
  }
  return -1;
}

/** Whether a valid line, one physical line of the file, can go to the database as its bytes. */
export function isVerbatim(plan: VerbatimPlan, fields: readonly string[], values: RowValues): boolean {
  const { fits, fieldOf } = plan;
  if (fields.length !== fits.length || fields[0]!.charCodeAt(0) === BACKSLASH) return false;
  for (let c = 0; c < fits.length; c++) {
    const field = fields[fieldOf[c]!]!;
    const value = values[c]!;
    if (value === null ? field !== '' : !fits[c]!(field, value)) return false;
  }
  return true;
}
