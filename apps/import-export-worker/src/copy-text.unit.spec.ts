import { describe, expect, it } from 'vitest';
import { copyBuffers } from './copy-text.js';

const copyText = (rows: Parameters<typeof copyBuffers>[0]) => Buffer.concat(copyBuffers(rows, 'utf8')).toString('utf8');

describe("rows as COPY's text", () => {
  it('separates values by tabs, writes NULL as \\N and booleans as true and false, as INSERTs write them', () => {
    expect(
      copyText([
        [1, 'Ada', null, true, '12.50'],
        [2, '', null, false, '-3'],
      ]),
    ).toBe('1\tAda\t\\N\ttrue\t12.50\n2\t\t\\N\tfalse\t-3\n');
  });

  it('escapes backslashes, tabs and line breaks, so that a value stays one value', () => {
    expect(copyText([['a\\b', 'c\td', 'e\nf\r\ng', '\\N']])).toBe('a\\\\b\tc\\td\te\\nf\\r\\ng\t\\\\N\n');
  });

  it('cuts many rows into several buffers, each ending with a whole row', () => {
    const rows = Array.from({ length: 5_000 }, (_, index) => [index, `Zoë ${index}`]);
    const buffers = copyBuffers(rows, 'utf8');
    expect(buffers.length).toBeGreaterThan(1);
    for (const buffer of buffers) expect(buffer.at(-1)).toBe(0x0a);
    expect(Buffer.concat(buffers).toString('utf8')).toBe(rows.map(([index, name]) => `${index}\t${name}\n`).join(''));
  });
});
