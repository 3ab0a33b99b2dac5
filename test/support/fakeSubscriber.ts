import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  body: any;
  at: number;
}

export interface FakeSubscriber {
  url: string;
  hostPort: string;
  received: ReceivedDelivery[];
  /** A fresh endpoint URL on this server, so each test scripts and reads its own. */
  endpoint(): string;
  /** Status codes to answer at `path`, in order; afterwards `fallback` (default 200). */
  script(url: string, statuses: number[], fallback?: number): void;
  close(): Promise<void>;
}

/** A subscriber endpoint on loopback (a third party we cannot run): records every POST verbatim. */
export async function startFakeSubscriber(): Promise<FakeSubscriber> {
  const received: ReceivedDelivery[] = [];
  const scripts = new Map<string, { queue: number[]; fallback: number }>();
  let endpoints = 0;
  const server = http.createServer((req, res) => {
    let rawBody = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (rawBody += chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      received.push({ path, headers: req.headers, rawBody, body, at: Date.now() });
      const script = scripts.get(path);
      const status = script?.queue.length ? (script.queue.shift() as number) : (script?.fallback ?? 200);
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status < 300 ? 'ok' : `failing with ${status}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    hostPort: `127.0.0.1:${port}`,
    received,
    endpoint() {
      endpoints += 1;
      return `http://127.0.0.1:${port}/hooks/${endpoints}`;
    },
    script(url, statuses, fallback = 200) {
      scripts.set(new URL(url).pathname, { queue: [...statuses], fallback });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
