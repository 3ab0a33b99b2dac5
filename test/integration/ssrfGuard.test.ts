import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, fetch } from 'undici';
import { SsrfBlockedError, checkUrl, createGuardedDispatcher, guardedFetch } from '../../src/http/ssrfGuard';

/** A real HTTP server on 127.0.0.1 that records every TCP connection and request it sees. */
interface Recorder {
  server: Server;
  port: number;
  connections: number;
  paths: string[];
}

async function startServer(handle: (path: string, res: import('node:http').ServerResponse, recorder: Recorder) => void): Promise<Recorder> {
  const server = createServer();
  const recorder: Recorder = { server, port: 0, connections: 0, paths: [] };
  server.on('connection', () => recorder.connections++);
  server.on('request', (req, res) => {
    recorder.paths.push(req.url ?? '');
    handle(req.url ?? '', res, recorder);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  recorder.port = (server.address() as AddressInfo).port;
  return recorder;
}

async function stopServer(recorder: Recorder): Promise<void> {
  recorder.server.closeAllConnections();
  await new Promise<void>((resolve) => recorder.server.close(() => resolve()));
}

const PUBLIC = '93.184.215.14';

describe('guardedFetch against a real server on 127.0.0.1', () => {
  let internal: Recorder;
  let elsewhere: Recorder;

  beforeAll(async () => {
    elsewhere = await startServer((_path, res) => res.end('elsewhere'));
    internal = await startServer((path, res) => {
      if (path === '/hook') res.end('delivered');
      else if (path === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/landed` }).end();
      else if (path === '/slow') return; // never answers
      else res.writeHead(404).end();
    });
  });
  afterAll(async () => {
    await stopServer(internal);
    await stopServer(elsewhere);
  });
  beforeEach(() => {
    for (const recorder of [internal, elsewhere]) {
      recorder.connections = 0;
      recorder.paths = [];
    }
  });

  const hookUrl = () => `http://127.0.0.1:${internal.port}/hook`;

  it('is refused when 127.0.0.1:<port> is not allow-listed — no connection reaches the server', async () => {
    await expect(guardedFetch(hookUrl(), {}, { allowTargets: [], timeoutMs: 5_000 })).rejects.toThrow(SsrfBlockedError);
    await expect(guardedFetch(`https://127.0.0.1:${internal.port}/hook`, {}, { allowTargets: [], timeoutMs: 5_000 })).rejects.toMatchObject({
      reason: '127.0.0.1 is a blocked address: loopback address (127.0.0.0/8)',
    });
    await expect(
      guardedFetch(`https://2130706433:${internal.port}/hook`, {}, { allowTargets: [`127.0.0.1:${internal.port + 1}`], timeoutMs: 5_000 }),
    ).rejects.toThrow(SsrfBlockedError);
    expect(internal.connections).toBe(0);
  });

  it('succeeds when 127.0.0.1:<port> is allow-listed (over plain http)', async () => {
    const response = await guardedFetch(hookUrl(), { method: 'POST', body: '{"type":"listing.published"}' }, {
      allowTargets: [`127.0.0.1:${internal.port}`],
      timeoutMs: 5_000,
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('delivered');
    expect(internal.paths).toEqual(['/hook']);
  });

  it('refuses at connect time on its own: the dispatcher blocks even a request that skipped checkUrl', async () => {
    const guarded = createGuardedDispatcher({ allowTargets: [] });
    const plain = new Agent();
    try {
      for (const url of [hookUrl(), `https://127.0.0.1:${internal.port}/hook`, `https://[::ffff:127.0.0.1]:${internal.port}/hook`]) {
        const error = await fetch(url, { dispatcher: guarded }).then(
          () => null,
          (caught: Error) => caught,
        );
        expect(error?.cause).toBeInstanceOf(SsrfBlockedError);
      }
      expect(internal.connections).toBe(0);
      // Control: the same request without the guard does reach the server.
      expect((await fetch(hookUrl(), { dispatcher: plain })).status).toBe(200);
      expect(internal.connections).toBe(1);
    } finally {
      await guarded.close();
      await plain.close();
    }
  });

  describe('DNS rebinding: public at check time, 127.0.0.1 at connect time', () => {
    /** Answers a public address the first time it is asked, 127.0.0.1 after that. */
    const rebindingResolver = () => jest.fn<Promise<string[]>, [string]>().mockResolvedValueOnce([PUBLIC]).mockResolvedValue(['127.0.0.1']);

    it('passes checkUrl (the first lookup) but is refused by the connect-time lookup, which is the one that counts', async () => {
      const resolve = rebindingResolver();
      const url = `https://rebind.test:${internal.port}/hook`;

      const error = await guardedFetch(url, {}, { allowTargets: [], resolve, timeoutMs: 5_000 }).then(
        () => null,
        (caught: unknown) => caught,
      );

      expect(error).toBeInstanceOf(SsrfBlockedError);
      expect((error as SsrfBlockedError).reason).toBe('rebind.test resolves to the blocked address 127.0.0.1: loopback address (127.0.0.0/8)');
      expect(resolve.mock.calls).toEqual([['rebind.test'], ['rebind.test']]); // once in checkUrl (passed), once at connect (refused)
      expect(internal.connections).toBe(0);
    });

    it('the creation-time check alone would have let it through', async () => {
      expect(await checkUrl(`https://rebind.test:${internal.port}/hook`, { allowTargets: [], resolve: rebindingResolver() })).toMatchObject({
        ok: true,
        addresses: [PUBLIC],
      });
    });

    it('control: a dispatcher that trusts DNS at connect time does open a connection to the internal server', async () => {
      const naive = new Agent({
        connect: {
          lookup: (_hostname, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]),
        },
      });
      try {
        // TLS then fails (the server speaks plain http), but the TCP connection to 127.0.0.1 was made.
        await expect(fetch(`https://rebind.test:${internal.port}/hook`, { dispatcher: naive })).rejects.toThrow();
        expect(internal.connections).toBe(1);
      } finally {
        await naive.close();
      }
    });
  });

  it('does not follow redirects: the 302 comes back to the caller and the target is never contacted', async () => {
    const allowTargets = [`127.0.0.1:${internal.port}`, `127.0.0.1:${elsewhere.port}`];
    const response = await guardedFetch(
      `http://127.0.0.1:${internal.port}/redirect`,
      { redirect: 'follow' }, // overridden: the guard never follows
      { allowTargets, timeoutMs: 5_000 },
    );
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`http://127.0.0.1:${elsewhere.port}/landed`);
    expect(internal.paths).toEqual(['/redirect']);
    expect(elsewhere.paths).toEqual([]);

    // Control: fetch's default (follow) does land on the other server.
    const plain = new Agent();
    try {
      const followed = await fetch(`http://127.0.0.1:${internal.port}/redirect`, { dispatcher: plain });
      expect(await followed.text()).toBe('elsewhere');
      expect(elsewhere.paths).toEqual(['/landed']);
    } finally {
      await plain.close();
    }
  });

  it('gives up after timeoutMs', async () => {
    const started = Date.now();
    const error = await guardedFetch(`http://127.0.0.1:${internal.port}/slow`, {}, {
      allowTargets: [`127.0.0.1:${internal.port}`],
      timeoutMs: 300,
    }).then(
      () => null,
      (caught: Error) => caught,
    );
    expect(error?.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(internal.paths).toEqual(['/slow']);
  });

  it('uses the dispatcher it is given (and leaves it open)', async () => {
    const dispatcher = createGuardedDispatcher({ allowTargets: [`127.0.0.1:${internal.port}`] });
    const dispatch = jest.spyOn(dispatcher, 'dispatch');
    try {
      const opts = { allowTargets: [`127.0.0.1:${internal.port}`], timeoutMs: 5_000, dispatcher };
      for (let i = 0; i < 3; i++) expect(await (await guardedFetch(hookUrl(), {}, opts)).text()).toBe('delivered');
      expect(internal.paths).toHaveLength(3);
      expect(dispatch).toHaveBeenCalledTimes(3);
      expect(dispatcher.closed).toBe(false);
    } finally {
      await dispatcher.close();
    }
  });
});
