import { describe, expect, it } from 'vitest';
import { copyText } from './copy-text.js';

describe("rows as COPY's text", () => {
  it('separates values by tabs, writes NULL as \\N and booleans as t and f', () => {
    expect(
      copyText([
        [1, 'Ada', null, true, '12.50'],
        [2, '', null, false, '-3'],
      ]),
    ).toBe('1\tAda\t\\N\tt\t12.50\n2\t\t\\N\tf\t-3\n');
  });

  it('escapes backslashes, tabs and line breaks, so that a value stays one value', () => {
    expect(copyText([['a\\b', 'c\td', 'e\nf\r\ng', '\\N']])).toBe('a\\\\b\tc\\td\te\\nf\\r\\ng\t\\\\N\n');
  });
});
