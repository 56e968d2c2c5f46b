/**
 * How the text of a file is held while it is imported. A UTF-8 file is read as its bytes, one
 * character a byte (latin1): V8 keeps such strings one byte a character, where a decoded file with
 * a single accent becomes two bytes a character, and splitting, converting and writing them for
 * COPY cost about half. CSV's syntax and every typed value are ASCII, which reads the same either
 * way; text values go to PostgreSQL as the same bytes again, and are decoded only where a person
 * (a reject, a header) or a driver (the query builder's INSERTs) reads them. Other encodings are
 * decoded as they are read.
 */
export interface TextForm {
  /** The file's text as a string. */
  decode(text: string): string;
  /** A string back in the form the file's text is held in. */
  encode(text: string): string;
  /** How a string of this form becomes the UTF-8 bytes PostgreSQL takes. */
  bufferEncoding: 'latin1' | 'utf8';
}

/** A character beyond ASCII: in a string held as bytes, a byte of a longer UTF-8 sequence. */
export const NON_ASCII = /[\u0080-\uffff]/;

export const UTF8_BYTES: TextForm = {
  decode: (text) => (NON_ASCII.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text),
  encode: (text) => Buffer.from(text, 'utf8').toString('latin1'),
  bufferEncoding: 'latin1',
};

export const DECODED: TextForm = {
  decode: (text) => text,
  encode: (text) => text,
  bufferEncoding: 'utf8',
};

/** A UTF-8 file is read as bytes, unless its delimiter or quote is no ASCII character (then more than a byte). */
export function csvTextForm(csv: { encoding: string; delimiter: string; quote: string }): TextForm {
  const asciiSyntax = csv.delimiter.charCodeAt(0) < 0x80 && csv.quote.charCodeAt(0) < 0x80;
  return asciiSyntax && /^utf-?8$/i.test(csv.encoding) ? UTF8_BYTES : DECODED;
}
