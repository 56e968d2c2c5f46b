import cliProgress from 'cli-progress';

/** What the progress bar shows of a job. */
export interface ProgressState {
  processed: number;
  total: number | null;
  rejected: number;
  /** The status as people read it: "Execution in progress". */
  status: string;
}

const BAR_WIDTH = 30;

/**
 * The progress bar's line: `[██████░░░░] 60% | 600/1,000 | 3 rejected | Execution in progress`;
 * while the total is unknown, the count alone after an empty bar.
 */
export function progressLine(state: ProgressState, width = BAR_WIDTH): string {
  const count = state.processed.toLocaleString('en-US');
  const rejected = `${state.rejected.toLocaleString('en-US')} rejected`;
  if (state.total === null || state.total === 0) return `[${'░'.repeat(width)}] ${count} | ${rejected} | ${state.status}`;
  const ratio = Math.min(1, state.processed / state.total);
  const filled = Math.round(ratio * width);
  const percent = `${Math.floor(ratio * 100)}%`;
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${percent} | ${count}/${state.total.toLocaleString('en-US')} | ${rejected} | ${state.status}`;
}

/**
 * The progress bar of a followed job, on stderr: redrawn in place on a terminal, and a line every
 * few seconds when stderr is a file or a pipe (a log keeps a trace without one line per event).
 */
export class ProgressDisplay {
  private readonly bar: cliProgress.SingleBar;
  private state: ProgressState;

  constructor(initial: ProgressState, stream: NodeJS.WriteStream = process.stderr) {
    this.state = initial;
    this.bar = new cliProgress.SingleBar({
      stream,
      format: (_options, _params, payload: { state: ProgressState }) => progressLine(payload.state),
      noTTYOutput: true,
      notTTYSchedule: 2_000,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
    });
    this.bar.start(1, 0, { state: initial });
  }

  update(change: Partial<ProgressState>): void {
    this.state = { ...this.state, ...change };
    this.bar.update(0, { state: this.state });
  }

  /** Draws the last state once more and leaves it on screen. */
  stop(): void {
    this.bar.update(0, { state: this.state });
    this.bar.stop();
  }
}
