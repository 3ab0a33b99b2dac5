import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeNominatim {
  url: string;
  requests: { path: string; query: URLSearchParams; userAgent: string | undefined }[];
  /** While set, requests are held until release() is called. */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

/**
 * A Nominatim-compatible geocoder on loopback: a third party we cannot run in tests. It answers
 * every /search with one building-level hit near Berlin Mitte and records what it was asked.
 */
export async function startFakeNominatim(): Promise<FakeNominatim> {
  const requests: FakeNominatim['requests'] = [];
  let held: (() => void)[] | null = null;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push({ path: url.pathname, query: url.searchParams, userAgent: req.headers['user-agent'] });
    const answer = () => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify([{ lat: '52.5321', lon: '13.3849', addresstype: 'building', type: 'house', display_name: 'Berlin' }]));
    };
    if (held) held.push(answer);
    else answer();
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    hold() {
      held ??= [];
    },
    release() {
      const waiting = held ?? [];
      held = null;
      for (const answer of waiting) answer();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
