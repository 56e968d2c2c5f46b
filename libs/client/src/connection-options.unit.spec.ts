import { describe, expect, it } from 'vitest';
import { connectionOptionsFromEnv, natsConnectionOptions } from './connection-options.js';

describe('natsConnectionOptions', () => {
  it('connects to the local NATS server by default, and keeps reconnecting so that a lost connection is retried', () => {
    expect(natsConnectionOptions()).toMatchObject({ servers: ['nats://127.0.0.1:4222'], maxReconnectAttempts: -1 });
  });

  it('takes a token, a user and password, a creds file and TLS, and nats.js options last', () => {
    const tls = { caFile: '/etc/nats/ca.pem', certFile: '/etc/nats/executor.pem', keyFile: '/etc/nats/executor.key' };
    expect(
      natsConnectionOptions({ servers: 'nats://a:4222, nats://b:4222', token: 's3cret', tls, nats: { name: 'executor-1' } }),
    ).toMatchObject({
      servers: ['nats://a:4222', 'nats://b:4222'],
      token: 's3cret',
      tls,
      name: 'executor-1',
    });
    expect(natsConnectionOptions({ user: 'executor-1', password: 'p1' })).toMatchObject({ user: 'executor-1', pass: 'p1' });
    expect(natsConnectionOptions({ credsFile: '/etc/nats/executor.creds' }).authenticator).toBeTypeOf('function');
  });
});

describe('connectionOptionsFromEnv', () => {
  it('reads the variables the service reads', () => {
    expect(
      connectionOptionsFromEnv({
        NATS_URL: 'tls://nats.example:4222',
        NATS_USER: 'executor-1',
        NATS_PASSWORD: 'p1',
        NATS_CREDS: '/etc/nats/executor.creds',
        NATS_TLS_CA: '/etc/nats/ca.pem',
      }),
    ).toEqual({
      servers: 'tls://nats.example:4222',
      user: 'executor-1',
      password: 'p1',
      credsFile: '/etc/nats/executor.creds',
      tls: { caFile: '/etc/nats/ca.pem', certFile: undefined, keyFile: undefined },
    });
    expect(connectionOptionsFromEnv({ NATS_TOKEN: 's3cret' })).toEqual({ servers: 'nats://127.0.0.1:4222', token: 's3cret' });
  });
});
