import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('../../dist/console', import.meta.url));

// The console imports the contracts' types and labels as `#contracts`: the "source" condition maps it to
// the TypeScript sources, as in the tests. Everything is bundled: the console loads nothing from a CDN.
// The contracts' modules only declare things: what the console does not use of them (the zod schemas,
// and zod with them) stays out of the bundle.
const declaresOnly = (id: string) => id.includes('/libs/contracts/src/');
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  resolve: { conditions: ['source', ...defaultClientConditions] },
  // `vite --config apps/console/vite.config.ts` serves the console with hot reload against a running HTTP API.
  server: { proxy: { '/api': process.env.JOBS_API_URL ?? 'http://127.0.0.1:8080' } },
  build: {
    outDir,
    emptyOutDir: true,
    reportCompressedSize: false,
    rolldownOptions: { treeshake: { moduleSideEffects: (id) => !declaresOnly(id) } },
  },
});
