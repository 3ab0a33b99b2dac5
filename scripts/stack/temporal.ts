import { Connection } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { ensureSearchAttributes } from '../../src/temporal/searchAttributes';
import { ManagedProcess, freePort, retryOnPortRace, startProcess, waitFor } from './processes';
import { findBinary } from './tools';

export interface TemporalHandle {
  address: string;
  uiUrl: string | null;
  source: string;
  process?: ManagedProcess;
  stop(): Promise<void>;
}

export interface TemporalOptions {
  /** SQLite file for a persistent dev server; omitted = in memory (tests). */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  logFile: string;
  namespace: string;
}

async function canConnect(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

/** TEMPORAL_ADDRESS of a running server, else a `temporal server start-dev` we own. */
export async function startTemporal(options: TemporalOptions): Promise<TemporalHandle> {
  const external = process.env.TEMPORAL_ADDRESS;
  if (external) {
    await waitFor(`Temporal at TEMPORAL_ADDRESS=${external}`, () => canConnect(external), 15_000);
    await registerSearchAttributes(external, options.namespace);
    return { address: external, uiUrl: null, source: `running server (TEMPORAL_ADDRESS=${external})`, stop: async () => undefined };
  }
  const binary = findBinary('temporal');
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  if (options.dbFile) fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
  return retryOnPortRace('temporal', options.logFile, async () => {
    const port = options.port ?? (await freePort());
    const uiPort = options.uiPort ?? (await freePort());
    const httpPort = await freePort();
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--http-port', String(httpPort), '--namespace', options.namespace, '--log-level', 'warn'];
    if (options.dbFile) args.push('--db-filename', options.dbFile);
    const child = startProcess('temporal', binary.path, args, { logFile: options.logFile });
    const address = `127.0.0.1:${port}`;
    try {
      await waitFor(`Temporal dev server (${binary.path})`, () => canConnect(address), 90_000, child, options.logFile);
      await registerSearchAttributes(address, options.namespace);
    } catch (error) {
      await child.stop();
      throw error;
    }
    return { address, uiUrl: `http://127.0.0.1:${uiPort}`, source: binary.source, process: child, stop: () => child.stop() };
  });
}

async function registerSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await ensureSearchAttributes(connection, namespace);
  } finally {
    await connection.close();
  }
}
