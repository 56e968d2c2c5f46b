export { QueryServiceModule } from './query-service.module.js';
export { BULK_CATCH_UP_MIN_COMMITS, ReadModelProjector } from './read-model-projector.js';
