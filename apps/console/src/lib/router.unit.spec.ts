import { describe, expect, it } from 'vitest';
import { routeOf } from './router.js';

describe("the console's addresses", () => {
  it('names the page each address shows', () => {
    expect(routeOf('/')).toEqual({ page: 'jobs' });
    expect(routeOf('/jobs/new')).toEqual({ page: 'new-job' });
    expect(routeOf('/jobs/nightly%20run')).toEqual({ page: 'job', jobId: 'nightly run' });
    expect(routeOf('/jobs/a/b')).toEqual({ page: 'not-found' });
    expect(routeOf('/settings')).toEqual({ page: 'not-found' });
  });
});
