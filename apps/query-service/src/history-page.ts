import { errorReply, type ErrorReply, type JobEvent } from '#contracts';

/** Where a page of a history ends: what the next page continues. */
export interface HistoryCursor {
  /**
   * The version the history is read at: the first page's atVersion, atTime or current version; null
   * for a `latestCursor`, which reads on to the job's version when it is used.
   */
  asOf: number | null;
  /** The last version the page held. */
  after: number;
  /** The position the next page reads from: of the commit holding the version after `after`, or just past the page's last commit. */
  position: number;
}

/** Cursors are opaque to clients: base64url of a JSON array, without asOf for a latest cursor. */
export function encodeHistoryCursor({ asOf, after, position }: HistoryCursor): string {
  return Buffer.from(JSON.stringify(asOf === null ? [after, position] : [asOf, after, position])).toString('base64url');
}

/** The cursor, or VALIDATION_FAILED for one this query did not make. */
export function decodeHistoryCursor(cursor: string): HistoryCursor | ErrorReply {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  if (!Array.isArray(values) || !values.every((value) => Number.isSafeInteger(value) && value >= 0)) return invalidHistoryCursor();
  if (values.length === 3) {
    const [asOf, after, position] = values as number[];
    if (after! < asOf! && position! > 0) return { asOf: asOf!, after: after!, position: position! };
  }
  if (values.length === 2) {
    const [after, position] = values as number[];
    if (position! > 0) return { asOf: null, after: after!, position: position! };
  }
  return invalidHistoryCursor();
}

export function invalidHistoryCursor(): ErrorReply {
  const message = 'invalid cursor: it is not a cursor of this history; pass the nextCursor of the previous page, or none';
  return errorReply({ code: 'VALIDATION_FAILED', message, issues: [{ path: 'cursor', message }] });
}

/**
 * How many of `events` (those after the previous page, in order) one page holds: at most `limit`,
 * and no more than fit in `byteBudget` bytes of JSON, so that the reply fits in one NATS message.
 * At least one, so that paging always moves on: one event alone too large for a reply is the
 * transport's PAYLOAD_TOO_LARGE.
 */
export function pageLength(events: readonly JobEvent[], limit: number, byteBudget: number): number {
  let bytes = 0;
  let length = 0;
  for (const event of events) {
    if (length === limit) break;
    // The event and the comma before it.
    bytes += Buffer.byteLength(JSON.stringify(event)) + 1;
    if (length > 0 && bytes > byteBudget) break;
    length++;
  }
  return length;
}
