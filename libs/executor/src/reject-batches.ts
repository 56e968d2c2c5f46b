import { createHash } from 'node:crypto';
import { MAX_REJECTS_PER_COMMAND, type RejectedRecordInput } from '#contracts';

/** Room left in a reject command's body for what is not a record: the job id, command id, executor, actor, brackets. */
export const REJECT_ENVELOPE_BYTES = 4 * 1024;
/** The longest `reason` the service takes. */
const MAX_REASON_LENGTH = 2_000;
/** The longest reject key that stays readable in its command ids (`<key>:<i>`, 200 characters at most); longer ones are hashed. */
const MAX_KEY_LENGTH = 180;

const byteSize = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/**
 * Splits records into reject commands of at most MAX_REJECTS_PER_COMMAND records and `maxBytes` of
 * records each, in order. The same records give the same split, so keyed command ids name the same
 * batches in every run. A record too large for a command on its own is cut to fit (see `fitRecord`).
 */
export function splitRejects(records: readonly RejectedRecordInput[], maxBytes: number): RejectedRecordInput[][] {
  const batches: RejectedRecordInput[][] = [];
  let batch: RejectedRecordInput[] = [];
  let bytes = 2;
  for (const original of records) {
    const record = fitRecord(original, maxBytes - 3);
    const size = byteSize(record) + 1;
    if (batch.length > 0 && (batch.length >= MAX_REJECTS_PER_COMMAND || bytes + size > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 2;
    }
    batch.push(record);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * The record as the service takes it: its reason cut to 2,000 characters, and when it would not fit
 * in one command, its `record` replaced by the start of its JSON text, the reason saying so.
 */
export function fitRecord(record: RejectedRecordInput, maxBytes: number): RejectedRecordInput {
  const reason =
    record.reason.trim().length > MAX_REASON_LENGTH ? `${record.reason.trim().slice(0, MAX_REASON_LENGTH - 1)}…` : record.reason;
  const fitted = reason === record.reason ? record : { ...record, reason };
  if (byteSize(fitted) <= maxBytes) return fitted;
  const text = JSON.stringify(record.record) ?? '';
  const note = ` (record cut to fit the payload limit: it was ${Buffer.byteLength(text)} bytes of JSON)`;
  const cutReason = `${reason.slice(0, MAX_REASON_LENGTH - note.length)}${note}`;
  // Escaping can make the text longer once serialized again: shorten until it fits.
  for (let length = Math.floor(maxBytes / 2); length > 0; length = Math.floor(length / 2)) {
    const cut = { line: record.line, reason: cutReason, record: text.slice(0, length) };
    if (byteSize(cut) <= maxBytes) return cut;
  }
  return { line: record.line, reason: cutReason, record: '' };
}

/** The command id of batch `index` of a keyed reject call. */
export function rejectCommandId(key: string, index: number): string {
  const name = key.length > MAX_KEY_LENGTH ? createHash('sha256').update(key).digest('hex') : key;
  return `${name}:${index}`;
}
