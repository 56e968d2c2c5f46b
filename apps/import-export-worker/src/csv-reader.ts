import type { Readable, Transform } from 'node:stream';
import iconv from 'iconv-lite';
import { csvTextForm, UTF8_BYTES } from './text-form.js';

/**
 * A record of the file: its fields, or why it does not parse, or a line the caller's lane took as it
 * is (see Lane). Lines are the file's, the header being line 1.
 */
export type CsvItem =
  | { line: number; endLine: number; fields: string[] }
  | { line: number; endLine: number; error: string; text: string }
  | { line: number; endLine: number; taken: true };

/**
 * A caller's fast way through lines it can settle without their fields: where the line at `start`
 * of `text` ends (after its line break) when it takes it, -1 when the line is to be split as usual.
 */
export type Lane = (text: string, start: number) => number;

/** Longest record read; past it the record is refused (an unclosed quote would otherwise hold the rest of the file). */
export const MAX_RECORD_CHARS = 1 << 20;
const MAX_FAULT_TEXT = 1_000;

type Mode = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteSeen' | 'skip';

const CR = 13;
const LF = 10;

/**
 * Splits CSV text (RFC 4180, with the definition's delimiter and quote) into records, chunk by
 * chunk, holding one record at most. A record that does not parse (a quote inside an unquoted
 * field, text after a closing quote) is a fault that ends at the end of its physical line, so the
 * lines after it are read as they are. csv-parse's skip_records_with_error was not used for this:
 * after an invalid closing quote it goes on inside a quoted field and swallows the good lines that follow.
 */
export class CsvSplitter {
  private readonly delimiter: number;
  private readonly quote: number;
  private fields: string[] = [];
  private field = '';
  private recordChars = 0;
  private mode: Mode = 'fieldStart';
  private inRecord = false;
  private line = 1;
  private recordLine = 1;
  private afterCR = false;
  private error = '';
  private faultText = '';
  private started = false;
  /** Where the record being read starts in the piece being read, or -1 when it started in a piece before. */
  private recordStart = -1;
  private spans: number[] | null = null;

  constructor(
    delimiter: string,
    quote: string,
    private readonly maxRecordChars = MAX_RECORD_CHARS,
  ) {
    this.delimiter = delimiter.charCodeAt(0);
    this.quote = quote.charCodeAt(0);
  }

  /**
   * Adds the records that `chunk` completes to `out`; and to `spans`, when given, where each lies in
   * `chunk` (start, end after its line break): -1, -1 for a record not wholly in it, or a fault.
   */
  push(chunk: string, out: CsvItem[], spans: number[] | null = null, lane: Lane | null = null): void {
    this.spans = spans;
    this.recordStart = -1;
    let i = 0;
    if (!this.started) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    const { delimiter, quote } = this;
    const length = chunk.length;
    while (i < length) {
      const c = chunk.charCodeAt(i);
      const wasAfterCR = this.afterCR;
      this.afterCR = c === CR;
      switch (this.mode) {
        case 'fieldStart':
          if (c === CR || c === LF) {
            if (!(c === LF && wasAfterCR)) this.endOfLine(out, chunk, i);
            i++;
            break;
          }
          if (!this.inRecord) {
            const end = lane ? lane(chunk, i) : -1;
            if (end >= 0) {
              out.push({ line: this.line, endLine: this.line, taken: true });
              spans?.push(i, end);
              this.line++;
              this.recordLine = this.line;
              this.afterCR = chunk.charCodeAt(end - 1) === CR;
              i = end;
              break;
            }
            this.recordStart = i;
          }
          if (c === quote) {
            this.inRecord = true;
            this.mode = 'quoted';
          } else if (c === delimiter) {
            this.inRecord = true;
            this.endField();
          } else {
            this.inRecord = true;
            this.mode = 'unquoted';
            continue;
          }
          i++;
          break;
        case 'unquoted': {
          let end = i;
          while (end < length) {
            const d = chunk.charCodeAt(end);
            if (d === delimiter || d === CR || d === LF || d === quote) break;
            end++;
          }
          this.field += chunk.slice(i, end);
          if (end === length) {
            this.afterCR = false;
            i = end;
            break;
          }
          const d = chunk.charCodeAt(end);
          this.afterCR = d === CR;
          if (d === delimiter) {
            this.endField();
            this.mode = 'fieldStart';
          } else if (d === quote)
            this.fail('a quote inside an unquoted field (quote the whole field and double the quotes in it)', chunk[end]!);
          else this.endOfLine(out, chunk, end);
          i = end + 1;
          break;
        }
        case 'quoted': {
          let end = i;
          while (end < length && chunk.charCodeAt(end) !== quote) {
            const d = chunk.charCodeAt(end);
            if (d === CR || (d === LF && !(end === i ? wasAfterCR : chunk.charCodeAt(end - 1) === CR))) this.line++;
            end++;
          }
          this.field += chunk.slice(i, end);
          this.afterCR = end > i && chunk.charCodeAt(end - 1) === CR;
          if (end < length) {
            this.mode = 'quoteSeen';
            this.afterCR = false;
          }
          i = end + 1;
          break;
        }
        case 'quoteSeen':
          if (c === quote) {
            this.field += chunk[i];
            this.mode = 'quoted';
          } else if (c === delimiter) {
            this.endField();
            this.mode = 'fieldStart';
          } else if (c === CR || c === LF) this.endOfLine(out, chunk, i);
          else this.fail('text after a closing quote (double a quote inside a quoted field)', chunk[i]!);
          i++;
          break;
        case 'skip':
          if (c === CR || c === LF) this.endOfLine(out, chunk, i);
          else if (this.faultText.length < MAX_FAULT_TEXT) this.faultText += chunk[i];
          i++;
          break;
      }
    }
    if (this.mode !== 'skip' && this.recordChars + this.field.length > this.maxRecordChars) {
      this.fail(`the record is longer than ${this.maxRecordChars} characters: a quote is probably not closed`, '');
    }
  }

  /** Adds the last record, the one no line break ends. */
  end(out: CsvItem[]): void {
    this.spans = null;
    if (this.mode === 'quoted') {
      this.fail(`the quoted field opened on line ${this.recordLine} is not closed`, '');
      this.emitFault(out);
    } else if (this.mode === 'skip') this.emitFault(out);
    else if (this.inRecord) this.emitRecord(out, -1);
  }

  private endField(): void {
    this.recordChars += this.field.length;
    this.fields.push(this.field);
    this.field = '';
  }

  private fail(reason: string, seen: string): void {
    this.error = reason;
    const fields = [...this.fields, this.field].join(String.fromCharCode(this.delimiter));
    this.faultText = (fields + seen).slice(0, MAX_FAULT_TEXT);
    this.mode = 'skip';
  }

  /** The line break at `at` in `chunk` ends the line. */
  private endOfLine(out: CsvItem[], chunk: string, at: number): void {
    if (this.mode === 'skip') this.emitFault(out);
    else if (this.inRecord) {
      // After CR LF; unknown when the chunk ends on the CR, its LF being perhaps the next chunk's.
      const end = chunk.charCodeAt(at) === LF ? at + 1 : at + 1 < chunk.length ? at + 1 + Number(chunk.charCodeAt(at + 1) === LF) : -1;
      this.emitRecord(out, end);
    }
    this.line++;
    this.recordLine = this.line;
  }

  private emitRecord(out: CsvItem[], end: number): void {
    this.endField();
    out.push({ line: this.recordLine, endLine: this.line, fields: this.fields });
    if (this.spans) {
      const whole = this.recordStart >= 0 && end >= 0;
      this.spans.push(whole ? this.recordStart : -1, whole ? end : -1);
    }
    this.reset();
  }

  private emitFault(out: CsvItem[]): void {
    out.push({ line: this.recordLine, endLine: this.line, error: this.error, text: this.faultText });
    this.spans?.push(-1, -1);
    this.reset();
  }

  private reset(): void {
    this.fields = [];
    this.field = '';
    this.recordChars = 0;
    this.inRecord = false;
    this.mode = 'fieldStart';
    this.error = '';
    this.faultText = '';
  }
}

/**
 * The records that a piece of the file completes. For a UTF-8 file, also the piece's bytes and where
 * each record lies in them, its line break included: `spans[2k]` to `spans[2k + 1]` for `items[k]`,
 * -1 for a record not wholly in the piece.
 */
export interface CsvPiece {
  items: CsvItem[];
  bytes: Buffer | null;
  spans: number[] | null;
}

/**
 * The records of a byte stream in `encoding`, a piece of text at a time: the stream's backpressure
 * holds. A UTF-8 file's fields are its bytes, one character a byte: see csvTextForm.
 */
export async function* readCsv(
  bytes: Readable,
  options: { delimiter: string; quote: string; encoding: string },
  lane: () => Lane | null = () => null,
): AsyncGenerator<CsvPiece> {
  const decoder = csvTextForm(options) === UTF8_BYTES ? null : (iconv.decodeStream(options.encoding) as unknown as Transform);
  if (decoder) bytes.on('error', (error) => decoder.destroy(error));
  const pieces = decoder ? decodedPieces(bytes.pipe(decoder) as AsyncIterable<string>) : utf8BytePieces(bytes);
  const splitter = new CsvSplitter(options.delimiter, options.quote);
  try {
    for await (const piece of pieces) {
      const items: CsvItem[] = [];
      const spans = piece.bytes && [];
      // A lane reads bytes where they lie: not for decoded text.
      splitter.push(piece.text, items, spans, spans && lane());
      if (items.length) yield { items, bytes: piece.bytes, spans };
    }
    const last: CsvItem[] = [];
    splitter.end(last);
    if (last.length) yield { items: last, bytes: null, spans: null };
  } finally {
    bytes.destroy();
    decoder?.destroy();
  }
}

const UTF8_BOM_AS_BYTES = '\u00ef\u00bb\u00bf';

/**
 * Bytes made into one string at most: a string over 128 KB lands in V8's large-object space, many
 * times slower to make, and a smaller piece lets the reader's caller answer I/O sooner.
 */
const BYTES_A_STRING = 16 * 1024;

interface TextPiece {
  text: string;
  /** The bytes `text` holds one character a byte, for a UTF-8 file. */
  bytes: Buffer | null;
}

async function* decodedPieces(texts: AsyncIterable<string>): AsyncGenerator<TextPiece> {
  for await (const text of texts) yield { text, bytes: null };
}

/** A UTF-8 stream's bytes as strings of one character a byte, without its byte order mark. */
async function* utf8BytePieces(bytes: Readable): AsyncGenerator<TextPiece> {
  let first = true;
  for await (const read of bytes as AsyncIterable<Uint8Array>) {
    const chunk = Buffer.isBuffer(read) ? read : Buffer.from(read.buffer, read.byteOffset, read.byteLength);
    for (let at = 0; at < chunk.length; at += BYTES_A_STRING) {
      const end = Math.min(at + BYTES_A_STRING, chunk.length);
      const text = chunk.toString('latin1', at, end);
      const bom = first && text.startsWith(UTF8_BOM_AS_BYTES) ? UTF8_BOM_AS_BYTES.length : 0;
      yield { text: bom ? text.slice(bom) : text, bytes: chunk.subarray(at + bom, end) };
      first = false;
    }
  }
}

/** For tests and small inputs: the records of a string. */
export function splitCsv(text: string, delimiter = ',', quote = '"'): CsvItem[] {
  const out: CsvItem[] = [];
  const splitter = new CsvSplitter(delimiter, quote);
  splitter.push(text, out);
  splitter.end(out);
  return out;
}
