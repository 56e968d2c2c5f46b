/** The header of a job's rejects as CSV (RFC 4180): every writer of them (the export, HTTP, the CLI) starts with it. */
export const REJECTS_CSV_HEADER = 'line,reason,record,at\r\n';

/** A rejected record's `record` as a CSV field holds it: a string as it is, any other value as its JSON. */
export function rejectRecordText(record: unknown): string {
  return typeof record === 'string' ? record : JSON.stringify(record);
}

/** One reject as a CSV row, `recordText` as `rejectRecordText` makes it. */
export function rejectCsvRow(line: number, reason: string, recordText: string, at: string): string {
  return `${line},${csvField(reason)},${csvField(recordText)},${csvField(at)}\r\n`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
