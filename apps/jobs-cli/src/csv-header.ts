import { open } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import type { CsvFormat } from './definitions.js';
import { UsageError } from './exit-codes.js';

/** Enough of a file for any header line worth mapping by hand. */
const HEADER_READ_BYTES = 1 << 20;

/** Whether the worker can read `encoding` (the same decoder, iconv-lite). */
export function knownEncoding(encoding: string): boolean {
  return iconv.encodingExists(encoding);
}

/** The names in the header line of `text` (the file's start, decoded), read with the file's delimiter and quote. */
export function headerNames(text: string, csv: Pick<CsvFormat, 'delimiter' | 'quote'>): string[] {
  const rows = parse(text.replace(/^\uFEFF/, ''), {
    delimiter: csv.delimiter,
    quote: csv.quote,
    to_line: 1,
    relax_column_count: true,
    skip_empty_lines: true,
  }) as string[][];
  return rows[0] ?? [];
}

/** The header line of the local CSV file at `path`. */
export async function readHeader(path: string, csv: CsvFormat): Promise<string[]> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_READ_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEADER_READ_BYTES, 0);
    const text = iconv.decode(buffer.subarray(0, bytesRead), csv.encoding);
    try {
      return headerNames(text, csv);
    } catch (error) {
      throw new UsageError(
        `cannot read the header line of ${path}: ${(error as Error).message}; check --delimiter, --encoding, or pass --map`,
      );
    }
  } finally {
    await file.close();
  }
}
