import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { StorageType, jetstreamManager, type ClusterInfo } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerProcess } from '#nats-server';
import { freePort } from './private-nats.js';

/** One server of a test's cluster. */
export interface ClusterNode {
  /** Its `server_name`, as stream info names a leader or a replica. */
  readonly name: string;
  readonly url: string;
}

/** A JetStream cluster of one test's own, on loopback, each server with its own store under one temp folder. */
export interface NatsCluster {
  /** Every server's client URL, comma-separated, as NATS_URL takes them. */
  readonly url: string;
  readonly nodes: readonly ClusterNode[];
  /** Kills a server with SIGKILL (no flush, no goodbye to its routes) and resolves once it has exited. */
  kill(name: string): Promise<void>;
  /** Stops every server still running and removes the stores; safe to call after a failure. */
  stop(): Promise<void>;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts `size` servers routed to each other, and resolves once each answers a client. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const clusterName = `c${Date.now().toString(36)}`;
  const folder = mkdtempSync(path.join(tmpdir(), 'nats-cluster-'));
  const members = [];
  for (let i = 1; i <= size; i++) members.push({ name: `n${i}`, port: await freePort(), clusterPort: await freePort() });
  const routes = members.map((member) => `nats://127.0.0.1:${member.clusterPort}`);
  const servers = new Map<string, NatsServerProcess>();
  const stop = async () => {
    await Promise.all([...servers.values()].map((server) => server.stop()));
    servers.clear();
    rmSync(folder, { recursive: true, force: true });
  };
  // Side by side: a server answers clients before its routes are up, and routes retry until the others listen.
  const started = await Promise.allSettled(
    members.map(async ({ name, port, clusterPort }) => {
      const server = await startNatsServer({
        host: '127.0.0.1',
        port,
        storeDir: path.join(folder, name),
        serverName: name,
        cluster: { name: clusterName, port: clusterPort, routes },
      });
      servers.set(name, server);
      return { name, url: server.url };
    }),
  );
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const nodes = started.map((result) => (result as PromiseFulfilledResult<ClusterNode>).value);
  return {
    url: nodes.map((node) => node.url).join(','),
    nodes,
    kill: async (name) => {
      const server = servers.get(name);
      if (!server) throw new Error(`no running server ${name} in this cluster (${[...servers.keys()].join(', ')})`);
      servers.delete(name);
      process.kill(server.pid, 'SIGKILL');
      // Already dying, it ignores the SIGTERM that stop sends: this only waits for its exit.
      await server.stop();
    },
    stop,
  };
}

/**
 * Waits until the cluster can place a stream of `replicas`: a meta leader is elected and enough
 * servers have joined it. Creates and deletes a small probe stream until that works.
 */
export async function waitForJetStreamCluster(nc: NatsConnection, replicas: number, timeoutMs = 30_000): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
  const probe = `PROBE_${Date.now().toString(36)}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await jsm.streams.add({ name: probe, subjects: [`${probe.toLowerCase()}.>`], num_replicas: replicas, storage: StorageType.Memory });
      await jsm.streams.delete(probe);
      return;
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(`the cluster could not place a stream of ${replicas} replicas within ${timeoutMs} ms: ${error}`);
      }
    }
    await pause(200);
  }
}

/** Waits until a stream has a leader and `replicas - 1` followers, every one current; returns its cluster info. */
export async function waitForStreamReplicas(
  nc: NatsConnection,
  stream: string,
  replicas: number,
  timeoutMs = 20_000,
): Promise<ClusterInfo> {
  const jsm = await jetstreamManager(nc, { timeout: 1_000, checkAPI: false });
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const cluster = (await jsm.streams.info(stream)).cluster;
      const followers = cluster?.replicas ?? [];
      if (cluster?.leader && followers.length === replicas - 1 && followers.every((peer) => peer.current && !peer.offline)) return cluster;
      last = cluster;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `stream ${stream} has no leader with ${replicas - 1} current followers after ${timeoutMs} ms: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    }
    await pause(100);
  }
}

/** The server that leads a stream now. */
export async function streamLeader(nc: NatsConnection, stream: string): Promise<string> {
  const leader = (await (await jetstreamManager(nc)).streams.info(stream)).cluster?.leader;
  if (!leader) throw new Error(`stream ${stream} has no leader`);
  return leader;
}
