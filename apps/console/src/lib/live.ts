import type { JobSummary } from '#contracts';
import { useEffect, useRef, useState } from 'react';

/** One message of the HTTP API's event stream: a job as of at least `position`. */
export interface JobChange {
  jobId: string;
  position: number;
  types: string[];
  job: JobSummary;
}

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/**
 * Job changes as they happen, from `GET /api/v1/events` (all jobs, or one). The browser's EventSource
 * sends the session cookie, reconnects by itself and resumes after the last message it had
 * (Last-Event-ID), so a change made while it reconnects still arrives.
 */
export function useJobChanges(jobId: string | null, onChange: (change: JobChange) => void): LiveState {
  const handler = useRef(onChange);
  handler.current = onChange;
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    const source = new EventSource(`/api/v1/events${jobId ? `?jobId=${encodeURIComponent(jobId)}` : ''}`);
    setState('connecting');
    source.onopen = () => setState('live');
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'stopped' : 'reconnecting');
    source.addEventListener('job', (event) => {
      handler.current(JSON.parse((event as MessageEvent<string>).data) as JobChange);
    });
    return () => source.close();
  }, [jobId]);
  return state;
}

export const LIVE_WORDS: Record<LiveState, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live: changes appear as they happen',
  reconnecting: 'Live updates interrupted; reconnecting…',
  stopped: 'Live updates stopped; reload the page to see changes',
};
