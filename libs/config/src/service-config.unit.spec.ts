import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from './service-config.js';

describe('JOBS_QUERY_WAIT_MS', () => {
  it('is 2 s by default, below the 5 s many clients wait for a reply', () => {
    expect(loadServiceConfig({}).queryWaitMs).toBe(2_000);
  });

  it('takes 1 to 60,000 ms', () => {
    expect(loadServiceConfig({ JOBS_QUERY_WAIT_MS: '60000' }).queryWaitMs).toBe(60_000);
    expect(() => loadServiceConfig({ JOBS_QUERY_WAIT_MS: '60001' })).toThrow(ConfigError);
    expect(() => loadServiceConfig({ JOBS_QUERY_WAIT_MS: '0' })).toThrow(ConfigError);
  });
});
