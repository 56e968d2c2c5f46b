import type { BoundColumn, ColumnValue, RowValues } from './columns.js';
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
}

type Fits = (field: string, value: ColumnValue) => boolean;

const BACKSLASH = 92;

const same: Fits = (field, value) => value === field;

/** No spaces nor bytes beyond ASCII at its ends: what the worker trims, the database may not. */
function trimmed(field: string): boolean {
  const [first, last] = [field.charCodeAt(0), field.charCodeAt(field.length - 1)];
  return first > 32 && first < 127 && last > 32 && last < 127;
}

const NUMERIC_TYPES = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);
const TIMESTAMP_TYPES = new Set(['timestamp with time zone', 'timestamp without time zone']);
const [ZULU, T, SPACE, COLON, DOT] = [90, 84, 32, 58, 46];

/**
 * `YYYY-MM-DD[T ]HH:MM[:SS[.f{1,3}]]Z`, already found valid by the worker: the database reads it to
 * the same instant, milliseconds kept (the worker cuts finer fractions, the database rounds them).
 */
const zuluTimestamp: Fits = (field) => {
  const { length } = field;
  const separator = field.charCodeAt(10);
  if (field.charCodeAt(length - 1) !== ZULU || !(separator === T || separator === SPACE) || field.charCodeAt(13) !== COLON) return false;
  if (length === 17) return true;
  if (field.charCodeAt(16) !== COLON) return false;
  return length === 20 || (length >= 22 && length <= 24 && field.charCodeAt(19) === DOT);
};

function fitsOf(type: ColumnType, sqlType: string | undefined): Fits {
  if (type === 'integer' && sqlType && NUMERIC_TYPES.has(sqlType)) return (field, value) => value === field || trimmed(field);
  if (type === 'boolean' && sqlType === 'boolean') return trimmed;
  if (type === 'timestamp' && sqlType && TIMESTAMP_TYPES.has(sqlType)) return zuluTimestamp;
  return same;
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
  return {
    columnsInFileOrder: byField.map((column) => column.name),
    fits: columns.map((column) => fitsOf(column.type, sqlTypes.get(column.name))),
    fieldOf: columns.map((column) => column.index),
    delimiter: csv.delimiter,
    quote: csv.quote,
  };
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
