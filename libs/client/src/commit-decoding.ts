import { readStoredCommit, type JobEvent } from '#contracts';

/**
 * The events of one commit of the events stream (a JSON array of the events one command produced),
 * each with the commit's position; null when it is not one the service writes (`readStoredCommit`):
 * not JSON, not an array of events, an event of an unknown type or with the wrong `data`, or of
 * another job than the one its subject names. The service quarantines such commits; a client skips
 * them the same way rather than trust them.
 */
export function decodeCommit(jobId: string, position: number, body: string): JobEvent[] | null {
  const read = readStoredCommit(jobId, body);
  return read.ok ? read.events.map((event) => ({ ...event, position }) as JobEvent) : null;
}
