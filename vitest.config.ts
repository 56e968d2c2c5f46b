import swc from 'unplugin-swc';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Libraries import each other as `#contracts`, `#domain`, ...: the "source" condition maps those to
// the TypeScript sources in tests, while the built service resolves them to dist/.
const conditions = ['source', ...defaultServerConditions];

/** The tiers, by file name: unit (no NATS, no build), int (one adapter on a real service or file), e2e (the service). */
const tier = (name: 'unit' | 'int' | 'e2e') => ({
  extends: true as const,
  test: { name, include: [`{apps,libs,test}/**/*.${name}.spec.ts`] },
});

export default defineConfig({
  // Nest's dependency injection reads decorator metadata, which only SWC emits here.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    projects: [tier('unit'), tier('int'), tier('e2e')],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // On CI also a JSON report, from which .ci/run prints the plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/test-results.json' }]] : ['default'],
  },
});
