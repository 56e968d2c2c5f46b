import type { RowValues } from './columns.js';

const ESCAPED = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * A buffer is made past this many characters: a longer string lands in V8's large-object space,
 * which costs several times more to make and to turn into bytes.
 */
const CHARACTERS_A_BUFFER = 32 * 1024;

/**
 * Rows in the text format of PostgreSQL's COPY, as the bytes of `encoding`: tab-separated, `\N` for
 * NULL, backslash escapes for the backslash, tab and line breaks; booleans as true and false, as the
 * driver's INSERTs send them (a text column keeps them as they are). In several buffers, each ending
 * with a row.
 */
export function copyBuffers(rows: readonly RowValues[], encoding: BufferEncoding): Buffer[] {
  const buffers: Buffer[] = [];
  let text = '';
  for (const row of rows) {
    for (let c = 0; c < row.length; c++) {
      if (c > 0) text += '\t';
      const value = row[c];
      if (value === null || value === undefined) text += '\\N';
      else if (typeof value === 'string')
        text += ESCAPED.test(value) ? value.replace(/[\\\t\n\r]/g, (character) => ESCAPES[character]!) : value;
      else if (typeof value === 'boolean') text += value ? 'true' : 'false';
      else text += String(value);
    }
    text += '\n';
    if (text.length >= CHARACTERS_A_BUFFER) {
      buffers.push(Buffer.from(text, encoding));
      text = '';
    }
  }
  if (text) buffers.push(Buffer.from(text, encoding));
  return buffers;
}
