import path from 'node:path';
import { Router } from 'express';
import type { Config } from '../config';
import { buildOpenApiDocument } from './document';

/**
 * The API reference is Scalar's (@scalar/api-reference), served from our own node_modules so
 * /docs works on an air-gapped install. Scalar over Redoc because it has a "try it" client built
 * in, and over swagger-ui because it renders 3.1 `webhooks`, examples and markdown descriptions as a
 * reader expects; its standalone bundle is one self-contained script (fonts, styles and the client
 * included), which keeps the page to two scripts of ours and a CSP of 'self'.
 */
const SCALAR_BUNDLE = path.join(path.dirname(require.resolve('@scalar/api-reference')), 'browser', 'standalone.js');

/**
 * Scalar's defaults reach for the network: its fonts (fonts.scalar.com), telemetry, a hosted CORS
 * proxy for "try it", and the "Ask AI" / MCP panels of its cloud. Each is switched off; the page
 * and the API share an origin, so "try it" needs no proxy. The browser test fails on any request
 * that leaves the origin.
 */
const SCALAR_CONFIG = {
  url: '/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  proxyUrl: '',
  hideClientButton: false,
  showDeveloperTools: 'never',
  documentDownloadType: 'json',
  agent: { disabled: true },
  mcp: { disabled: true },
  defaultOpenFirstTag: true,
};

// Not #api-reference: the standalone bundle mounts a second, unconfigured reference on an element with that id.
const INIT_SCRIPT = `Scalar.createApiReference('#reference', ${JSON.stringify(SCALAR_CONFIG)});\n`;

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Immoflow API reference</title>
</head>
<body>
<noscript>The API reference needs JavaScript. The document itself is at <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</noscript>
<div id="reference"></div>
<script src="/docs/assets/scalar.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

/**
 * Only our own origin: scripts are the two files above (no inline script), requests go to this API.
 * Scalar injects its stylesheet as <style> elements and sets inline styles, hence 'unsafe-inline'
 * for styles alone; images may be data: URIs (its icons are inlined in the bundle).
 */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

/** /openapi.json and the API reference at /docs. */
export function openApiRouter(config: Pick<Config, 'PUBLIC_BASE_URL'>): Router {
  const router = Router();
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  router.get('/openapi.json', (_req, res) => {
    document ??= buildOpenApiDocument(config.PUBLIC_BASE_URL);
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    res.set('Content-Security-Policy', DOCS_CSP).type('html').send(DOCS_PAGE);
  });
  router.get('/docs/assets/init.js', (_req, res) => {
    res.set('Content-Security-Policy', DOCS_CSP).type('text/javascript').send(INIT_SCRIPT);
  });
  router.get('/docs/assets/scalar.js', (_req, res, next) => {
    // The bundle changes only with the installed package version: let browsers keep it a day.
    res.sendFile(SCALAR_BUNDLE, { maxAge: '1d', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } }, (error) => {
      if (error) next(error);
    });
  });
  return router;
}
