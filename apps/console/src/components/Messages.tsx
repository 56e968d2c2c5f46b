import type { LiveState } from '../lib/live.js';
import { LIVE_WORDS } from '../lib/live.js';

/** An error in words, announced when it appears. */
export function ErrorMessage({ error }: { error: string | null }) {
  return (
    <p className="error" role="alert" hidden={!error}>
      {error}
    </p>
  );
}

/** Whether the page follows the service live. */
export function LiveIndicator({ state }: { state: LiveState }) {
  return (
    <p className={`live live-${state}`} aria-live="polite">
      <span className="live-dot" aria-hidden="true" />
      {LIVE_WORDS[state]}
    </p>
  );
}
