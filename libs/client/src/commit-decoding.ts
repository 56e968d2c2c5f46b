import { eventDataSchemas, JOB_ID_PATTERN, storedEventSchema, type JobEvent } from '#contracts';

/**
 * The events of one commit of the events stream (a JSON array of the events one command produced),
 * each with the commit's position; null when it is not one the service writes: not JSON, not an
 * array of events, an event of an unknown type or with the wrong `data`, or of another job than the
 * one its subject names. The service quarantines such commits; a client skips them the same way
 * rather than trust them.
 */
export function decodeCommit(jobId: string, position: number, body: string): JobEvent[] | null {
  if (!JOB_ID_PATTERN.test(jobId)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return null;
  const events: JobEvent[] = [];
  for (const value of parsed) {
    const event = storedEventSchema.safeParse(value);
    if (!event.success || event.data.jobId !== jobId || !eventDataSchemas[event.data.type].safeParse(event.data.data).success) return null;
    events.push({ ...(value as object), position } as JobEvent);
  }
  return events;
}
