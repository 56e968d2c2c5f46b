import type { RowValues } from './columns.js';

const ESCAPED = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Rows in the text format of PostgreSQL's COPY: tab-separated, `\N` for NULL, backslash escapes for
 * the backslash, tab and line breaks; booleans as t and f.
 */
export function copyText(rows: readonly RowValues[]): string {
  let text = '';
  for (const row of rows) {
    for (let c = 0; c < row.length; c++) {
      if (c > 0) text += '\t';
      const value = row[c];
      if (value === null || value === undefined) text += '\\N';
      else if (typeof value === 'string')
        text += ESCAPED.test(value) ? value.replace(/[\\\t\n\r]/g, (character) => ESCAPES[character]!) : value;
      else if (typeof value === 'boolean') text += value ? 't' : 'f';
      else text += String(value);
    }
    text += '\n';
  }
  return text;
}
