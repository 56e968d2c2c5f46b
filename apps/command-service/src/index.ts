export { CommandServiceModule } from './command-service.module.js';
