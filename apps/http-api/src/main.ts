import 'reflect-metadata';
import { loadServiceConfig } from '#config';
import { createLogger } from '#service-bootstrap';
import { loadHttpApiConfig } from './http-api.config.js';
import { startHttpApi } from './start-http-api.js';

// The HTTP API alone, beside a service running elsewhere: `node dist/apps/http-api/src/main.js`.
let config: ReturnType<typeof loadServiceConfig>;
let http: ReturnType<typeof loadHttpApiConfig>;
try {
  config = loadServiceConfig();
  http = loadHttpApiConfig(config);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
const logger = createLogger(config);
try {
  const api = await startHttpApi({ config, http, logger });
  const stop = async (signal: string) => {
    logger.log(`${signal}: finishing requests in flight, then stopping`);
    await api.stop(signal);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  logger.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
