import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A third party on loopback, in every role the scenarios need: a portal (its /crm/oauth and
 * /crm/integrate, reference 001 from the other side, and the listing pushes), a CRM partner's
 * webhook and a webhook subscriber. It records what it received and answers 200 to the rest.
 */
export interface LoopbackServer {
  /** http://127.0.0.1:<port> */
  url: string;
  received: ReceivedRequest[];
  /** Every x-crm-token this portal issued (secrets the run saw). */
  issuedTokens: string[];
  close(): Promise<void>;
}

/**
 * Listens on the first `127.0.0.1:<port>` of the stack's WEBHOOK_ALLOW_TARGETS that is free (the
 * SSRF guard lets only allow-listed targets use plain http on loopback), or returns undefined.
 */
export async function startLoopbackServer(allowTargets: string | undefined): Promise<LoopbackServer | undefined> {
  const ports = (allowTargets ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .map((entry) => /^127\.0\.0\.1:(\d+)$/.exec(entry)?.[1])
    .filter((port): port is string => port !== undefined)
    .map(Number);
  for (const port of ports) {
    const server = await listen(port);
    if (server) return server;
  }
  return undefined;
}

function listen(port: number): Promise<LoopbackServer | undefined> {
  const received: ReceivedRequest[] = [];
  const issuedTokens: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      received.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.setHeader('content-type', 'application/json');
      if (path.endsWith('/crm/oauth')) {
        const token = `portaltok_${randomBytes(18).toString('hex')}`;
        issuedTokens.push(token);
        res.end(JSON.stringify({ 'x-crm-token': token, expires_in: 21_600 }));
      } else if (path.endsWith('/crm/integrate')) {
        res.statusCode = 201;
        res.end(JSON.stringify({ url: `https://portal.example/connect/${randomBytes(8).toString('hex')}`, expires_at: new Date(Date.now() + 3_600_000).toISOString() }));
      } else {
        res.end(JSON.stringify({ ok: true, id: randomBytes(6).toString('hex') }));
      }
    });
  });
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        received,
        issuedTokens,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
