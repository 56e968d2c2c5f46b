import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { CsvSplitter, readCsv, splitCsv } from './csv-reader.js';

describe('CSV splitting', () => {
  it('numbers each record by the line it starts on, the header being line 1, quoted line breaks and CRLF included', () => {
    expect(splitCsv('a,b\r\n1,2\r\n"x\r\ny",3\r\n\r\n4,"5 ""five"""')).toEqual([
      { line: 1, endLine: 1, fields: ['a', 'b'] },
      { line: 2, endLine: 2, fields: ['1', '2'] },
      { line: 3, endLine: 4, fields: ['x\r\ny', '3'] },
      { line: 6, endLine: 6, fields: ['4', '5 "five"'] },
    ]);
  });

  it('makes a line that does not parse a fault that ends with its line, and reads the next lines as they are', () => {
    const items = splitCsv('a,b\n1,2\n"bad"q,4\n5,6\nab"c,7\n8,9\n');
    expect(items).toEqual([
      { line: 1, endLine: 1, fields: ['a', 'b'] },
      { line: 2, endLine: 2, fields: ['1', '2'] },
      { line: 3, endLine: 3, error: expect.stringContaining('text after a closing quote'), text: 'badq,4' },
      { line: 4, endLine: 4, fields: ['5', '6'] },
      { line: 5, endLine: 5, error: expect.stringContaining('a quote inside an unquoted field'), text: 'ab"c,7' },
      { line: 6, endLine: 6, fields: ['8', '9'] },
    ]);
  });

  it('says which quote is not closed at the end of the file', () => {
    expect(splitCsv('a\n"open\n1\n2')).toEqual([
      { line: 1, endLine: 1, fields: ['a'] },
      { line: 2, endLine: 4, error: 'the quoted field opened on line 2 is not closed', text: 'open\n1\n2' },
    ]);
  });

  it('takes another delimiter and quote, skips a byte order mark, keeps empty trailing fields', () => {
    expect(splitCsv("\uFEFFa;b\n'x;y';\n", ';', "'")).toEqual([
      { line: 1, endLine: 1, fields: ['a', 'b'] },
      { line: 2, endLine: 2, fields: ['x;y', ''] },
    ]);
  });

  it('gives the same records whatever the chunks, even split between CR and LF or inside a doubled quote', () => {
    const text = 'a,b\r\n"q ""x"" \r\n y",2\r\n3,4\r\n"bad"q\r\n5,"6"\r\n';
    const whole = splitCsv(text);
    for (let size = 1; size < 8; size++) {
      const splitter = new CsvSplitter(',', '"');
      const out: ReturnType<typeof splitCsv> = [];
      for (let i = 0; i < text.length; i += size) splitter.push(text.slice(i, i + size), out);
      splitter.end(out);
      expect(out).toEqual(whole);
    }
    expect(whole.map((item) => item.line)).toEqual([1, 2, 4, 5, 6]);
  });

  it('tells where each record lies in the piece that holds it whole, its line break included', () => {
    const splitter = new CsvSplitter(',', '"');
    const [out, first, second] = [[], [], []] as [ReturnType<typeof splitCsv>, number[], number[]];
    // The last record's CR ends the piece: its LF may be the next one's, so its end is not known.
    splitter.push('a,b\r\n"x\ny",2\n3,4\r', out, first);
    expect(first).toEqual([0, 5, 5, 13, -1, -1]);
    splitter.push('\n5,6\n"q"x\n\n7,8\n9', out, second);
    // The fault has no span; the blank line is no record; 9 goes on in the next piece.
    expect(second).toEqual([1, 5, -1, -1, 11, 15]);
    const third: number[] = [];
    splitter.push(',10\n11', out, third);
    splitter.end(out);
    expect(third).toEqual([-1, -1]);
    expect(out.map((item) => item.line)).toEqual([1, 2, 4, 5, 6, 8, 9, 10]);
  });

  it('refuses a record longer than the limit rather than hold the rest of the file', () => {
    const splitter = new CsvSplitter(',', '"', 10);
    const out: ReturnType<typeof splitCsv> = [];
    splitter.push('a\n"0123456789', out);
    splitter.push('abc\n', out);
    splitter.push('1\n2\n', out);
    splitter.end(out);
    expect(
      out.map((item) =>
        'error' in item ? `${item.line}-${item.endLine} ${item.error}` : `${item.line} ${'fields' in item && item.fields}`,
      ),
    ).toEqual(['1 a', '2-3 the record is longer than 10 characters: a quote is probably not closed', '4 2']);
  });

  it('decodes the file in its encoding', async () => {
    const bytes = Readable.from([iconv.encode('nom\nRené\n', 'latin1')]);
    const items = [];
    for await (const chunk of readCsv(bytes, { delimiter: ',', quote: '"', encoding: 'latin1' })) items.push(...chunk.items);
    expect(items).toEqual([
      { line: 1, endLine: 1, fields: ['nom'] },
      { line: 2, endLine: 2, fields: ['René'] },
    ]);
  });
});

describe('reading a UTF-8 file', () => {
  it('gives its fields as their bytes, one character a byte, without the byte order mark', async () => {
    const items = [];
    for await (const chunk of readCsv(Readable.from([Buffer.from('\ufeffnom\nRené\n')]), {
      delimiter: ',',
      quote: '"',
      encoding: 'utf-8',
    })) {
      items.push(...chunk.items);
    }
    expect(items).toEqual([
      { line: 1, endLine: 1, fields: ['nom'] },
      { line: 2, endLine: 2, fields: [Buffer.from('René').toString('latin1')] },
    ]);
  });
});
