import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FileRoute = (req: http.IncomingMessage, res: http.ServerResponse, socket: Socket) => void | Promise<void>;

export interface FakeFileServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  hostPort: string;
  /** Requests per path, in arrival order. */
  hits: Map<string, number>;
  /** Requests per path answered 304 Not Modified (a conditional GET that downloaded nothing). */
  notModified: Map<string, number>;
  route(path: string, handler: FileRoute): string;
  close(): Promise<void>;
}

/** A CRM's file host on loopback (a third party we cannot run): a real node:http server. */
export async function startFakeFileServer(): Promise<FakeFileServer> {
  const routes = new Map<string, FileRoute>();
  const hits = new Map<string, number>();
  const notModified = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    res.once('finish', () => {
      if (res.statusCode === 304) notModified.set(path, (notModified.get(path) ?? 0) + 1);
    });
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    Promise.resolve(handler(req, res, req.socket)).catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    hostPort: `127.0.0.1:${port}`,
    hits,
    notModified,
    route(path, handler) {
      routes.set(path, handler);
      return `${origin}${path}`;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Serves `body` with an honest Content-Length and an ETag (`etag`, or one from the body's size),
 * answering a matching If-None-Match with 304 as an HTTP cache or CDN does.
 */
export const serve = (body: Buffer, contentType = 'application/octet-stream', etag = `"${body.length}"`): FileRoute => (req, res) => {
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ETag: etag }).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': body.length, ETag: etag }).end(body);
};

/** Serves `size` bytes starting with `head` as chunked (no Content-Length), `chunk` bytes at a time, waiting `delayMs` between chunks. */
export const stream = (head: Buffer, size: number, options: { chunk?: number; delayMs?: number } = {}): FileRoute => async (_req, res) => {
  const chunk = options.chunk ?? 256 * 1024;
  res.writeHead(200, { 'Content-Type': 'application/pdf' });
  let sent = 0;
  while (sent < size && !res.destroyed) {
    const length = Math.min(chunk, size - sent);
    const piece = Buffer.alloc(length, 0x20);
    if (sent === 0) head.copy(piece, 0, 0, Math.min(head.length, length));
    sent += length;
    if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
  }
  res.end();
};
