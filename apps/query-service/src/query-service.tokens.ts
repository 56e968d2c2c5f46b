/** The process's NATS connection, for what the query side reads beside the event store. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
