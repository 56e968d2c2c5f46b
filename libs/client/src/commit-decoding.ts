import { isJobEventType, readStoredCommit, type JobEvent, type JobEventType } from '#contracts';

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

/** That a job changed, as a commit's headers tell it: which job, at which position, to which version, by which events. */
export interface JobChange {
  jobId: string;
  position: number;
  /** The job's version after the commit (its last event's). */
  version: number;
  /** The types of the commit's events, in order. */
  types: JobEventType[];
}

/**
 * A commit's change from its headers (`EVENT_HEADERS`: the event types, comma-separated, the job id
 * and its version), without its body; null when they are not what the service writes: the job of
 * another subject, an unknown event type, a version that is no positive integer. A reader that only
 * needs to know what changed trusts no more than that.
 */
export function decodeChange(
  jobId: string,
  position: number,
  headers: { types: string | undefined; jobId: string | undefined; version: string | undefined },
): JobChange | null {
  if (headers.jobId !== jobId || !headers.types || !headers.version || !/^[1-9]\d*$/.test(headers.version)) return null;
  const version = Number(headers.version);
  const types = headers.types.split(',');
  return Number.isSafeInteger(version) && types.every(isJobEventType) ? { jobId, position, version, types } : null;
}
