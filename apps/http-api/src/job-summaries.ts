import { LRUCache } from 'lru-cache';
import type { JobSummary } from '#contracts';
import type { JobsClient } from '#client';

interface Reading {
  minPosition: number;
  summary: Promise<JobSummary>;
}

/**
 * Jobs' summaries as of at least a position, shared by every live stream of the process: when many
 * clients watch the same job, one `get` answers them all for the same change.
 */
export class JobSummaries {
  private readonly readings = new LRUCache<string, Reading>({ max: 10_000 });

  constructor(private readonly client: JobsClient) {}

  at(jobId: string, minPosition: number): Promise<JobSummary> {
    const known = this.readings.get(jobId);
    // A summary read at a later position is as of at least this one too.
    if (known !== undefined && known.minPosition >= minPosition) return known.summary;
    const reading: Reading = { minPosition, summary: this.client.get({ jobId, minPosition }).then((reply) => reply.job) };
    this.readings.set(jobId, reading);
    reading.summary.catch(() => {
      if (this.readings.get(jobId) === reading) this.readings.delete(jobId);
    });
    return reading.summary;
  }
}
