import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { freePort, retryOnPortRace } from '../../scripts/stack/processes';

describe('retryOnPortRace', () => {
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'immoflow-port-race-')), 'server.log');
  const quiet = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  afterAll(() => quiet.mockRestore());

  it('starts again when the server logged that a port was taken, and returns the later start', async () => {
    let starts = 0;
    const result = await retryOnPortRace('probe', logFile, async () => {
      starts += 1;
      if (starts === 1) {
        fs.appendFileSync(logFile, 'listen tcp 127.0.0.1:36523: bind: address already in use\n');
        throw new Error('exited with code 1');
      }
      return `started on attempt ${starts}`;
    });
    expect(result).toBe('started on attempt 2');
  });

  it('gives up after three port races, and never retries any other failure', async () => {
    let starts = 0;
    await expect(
      retryOnPortRace('probe', logFile, async () => {
        starts += 1;
        fs.appendFileSync(logFile, 'ERROR Specified port is already in use\n');
        throw new Error(`race ${starts}`);
      }),
    ).rejects.toThrow('race 3');
    expect(starts).toBe(3);

    // The earlier races are still in the log; only what this start logged counts.
    let other = 0;
    await expect(
      retryOnPortRace('probe', logFile, async () => {
        other += 1;
        fs.appendFileSync(logFile, 'fatal: the data directory is not writable\n');
        throw new Error('not a port race');
      }),
    ).rejects.toThrow('not a port race');
    expect(other).toBe(1);
  });
});

describe('freePort', () => {
  it('hands out distinct ports below the ephemeral range that a server can bind on every address', async () => {
    const [ephemeralLow] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralLow);
    }
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(ports[0], '0.0.0.0', resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});
