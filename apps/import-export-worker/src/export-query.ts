import { WorkerError } from './errors.js';

const notReadOnly = (why: string) =>
  new WorkerError('QUERY_NOT_READ_ONLY', `the export's query ${why}: give one SELECT (or WITH ... SELECT) statement`);

/**
 * The query of an export, checked to be one SELECT or WITH statement (a trailing semicolon is
 * dropped). This is the first guard only: the query also runs as a subquery, in a read-only
 * transaction (PostgreSQL) or on a query-only connection (SQLite).
 */
export function singleSelect(query: string): string {
  let i = 0;
  let firstWord = '';
  let end = query.length;
  const n = query.length;
  while (i < n) {
    const c = query[i]!;
    if (c === '-' && query[i + 1] === '-') {
      const next = query.indexOf('\n', i);
      i = next < 0 ? n : next + 1;
    } else if (c === '/' && query[i + 1] === '*') {
      const next = query.indexOf('*/', i + 2);
      if (next < 0) throw notReadOnly('has a comment that is not closed');
      i = next + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      const close = closing(query, i, c);
      if (close < 0) throw notReadOnly(`has a ${c} that is not closed`);
      i = close + 1;
    } else if (c === '$' && /^\$[A-Za-z_]*\$/.test(query.slice(i))) {
      const tag = /^\$[A-Za-z_]*\$/.exec(query.slice(i))![0];
      const close = query.indexOf(tag, i + tag.length);
      if (close < 0) throw notReadOnly(`has a ${tag} string that is not closed`);
      i = close + tag.length;
    } else if (c === ';') {
      if (
        query
          .slice(i + 1)
          .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '')
          .trim() !== ''
      )
        throw notReadOnly('holds more than one statement');
      end = i;
      break;
    } else {
      if (!firstWord && /[A-Za-z]/.test(c)) firstWord = /^[A-Za-z]+/.exec(query.slice(i))![0].toLowerCase();
      else if (!firstWord && !/\s|\(/.test(c)) throw notReadOnly('does not start with SELECT or WITH');
      i++;
    }
  }
  if (firstWord !== 'select' && firstWord !== 'with') throw notReadOnly(firstWord ? `starts with ${firstWord.toUpperCase()}` : 'is empty');
  return query.slice(0, end);
}

/** Where a quoted string or name starting at `start` ends; a doubled quote stays inside. */
function closing(query: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < query.length) {
    const next = query.indexOf(quote, i);
    if (next < 0) return -1;
    if (query[next + 1] !== quote) return next;
    i = next + 2;
  }
  return -1;
}
