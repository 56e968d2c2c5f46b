export { QueryServiceModule } from './query-service.module.js';
