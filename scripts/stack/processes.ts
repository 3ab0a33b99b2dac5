import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { scriptLog } from './log';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a child in its own process group so that stop() also ends its children. */
export function startProcess(name: string, command: string, args: string[], options: SpawnOptions & { logFile?: string } = {}): ManagedProcess {
  const { logFile, ...spawnOptions } = options;
  const stdio: SpawnOptions['stdio'] = logFile
    ? ['ignore', fs.openSync(logFile, 'a'), fs.openSync(logFile, 'a')]
    : (spawnOptions.stdio ?? 'inherit');
  const child = spawn(command, args, { ...spawnOptions, stdio, detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child, 'SIGTERM');
      const timeout = setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function isPortOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `probe` until it succeeds; fails with the process's log tail when it never does. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, process?: ManagedProcess, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process && process.child.exitCode !== null) break;
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const tail = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n') : '';
  const exit = process && process.child.exitCode !== null ? ` (it exited with code ${process.child.exitCode})` : '';
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s${exit}.${tail ? `\nLast log lines:\n${tail}` : ''}`);
}

const PORT_TAKEN = /address already in use|port is already in use/i;

/**
 * Runs `start`, which picks free ports and starts a server logging to `logFile`, again (up to 3
 * times) when the server failed because a port it was given was taken before it bound it: a port
 * found free can be grabbed meanwhile by any outgoing connection's ephemeral port.
 */
export async function retryOnPortRace<T>(name: string, logFile: string, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const logOffset = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    try {
      return await start();
    } catch (error) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(logOffset) : '';
      if (attempt >= 3 || !PORT_TAKEN.test(log)) throw error;
      scriptLog('stack').warn(`${name}: a port was taken before the server bound it; retrying on fresh ports (attempt ${attempt + 1} of 3)`);
    }
  }
}
