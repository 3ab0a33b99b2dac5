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

/**
 * A port that was free a moment ago, for a process whose config must name it before it listens.
 * It is drawn below the kernel's ephemeral range: a port the kernel handed out (listen(0)) is
 * also what it hands to outgoing connections, so a busy stack could take it as a client socket in
 * the seconds before the process binds, or while a killed process is down, and the bind fails with
 * EADDRINUSE. The probe binds every address, as a server on 0.0.0.0 will.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralPortRange();
  const low = 10_000;
  for (let tries = 0; tries < 200; tries++) {
    const port = low + Math.floor(Math.random() * (ephemeralLow - low));
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${low} and ${ephemeralLow} after 200 tries`);
}

/** Ports this process has already given out, so that two callers racing cannot get the same one. */
const handedOut = new Set<number>();

function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 20_000 && high > low) return [low, high];
  } catch {
    // Not Linux: IANA's dynamic range is what macOS and Windows use.
  }
  return [49_152, 65_535];
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '0.0.0.0', exclusive: true }, () => probe.close(() => resolve(true)));
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
