import { Router } from 'express';
import type { Config } from '../config';
import { buildOpenApiDocument } from './document';

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Immoflow API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:24px;color:#1b1f24}
h1{margin-bottom:0}code,pre{font:13px ui-monospace,monospace;background:#f4f5f7;border-radius:4px}
pre{padding:12px;overflow:auto}.op{border:1px solid #dde1e6;border-radius:6px;margin:12px 0;padding:8px 14px}
.m{display:inline-block;min-width:64px;font-weight:700;text-transform:uppercase}.get{color:#0a7}.post{color:#06c}.patch{color:#b60}.delete{color:#c22}
summary{cursor:pointer}
</style></head><body>
<h1>Immoflow API</h1><p id="desc"></p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<div id="ops"></div><h2>Schemas</h2><div id="schemas"></div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  document.getElementById('desc').textContent = doc.info.description;
  const ops = document.getElementById('ops');
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const el = document.createElement('details'); el.className = 'op';
    const s = document.createElement('summary');
    s.innerHTML = '<span class="m ' + method + '"></span> <code></code> ';
    s.querySelector('.m').textContent = method; s.querySelector('code').textContent = path;
    s.append(op.summary || '');
    const pre = document.createElement('pre'); pre.textContent = JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody, responses: op.responses }, null, 2);
    el.append(s, pre); ops.append(el);
  }
  const schemas = document.getElementById('schemas');
  for (const [name, schema] of Object.entries(doc.components.schemas || {})) {
    const el = document.createElement('details'); el.className = 'op';
    const s = document.createElement('summary'); s.textContent = name;
    const pre = document.createElement('pre'); pre.textContent = JSON.stringify(schema, null, 2);
    el.append(s, pre); schemas.append(el);
  }
});
</script></body></html>`;

/** /openapi.json and a self-contained docs page (no CDN: works on air-gapped installs). */
export function openApiRouter(config: Pick<Config, 'PUBLIC_BASE_URL'>): Router {
  const router = Router();
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  router.get('/openapi.json', (_req, res) => {
    document ??= buildOpenApiDocument(config.PUBLIC_BASE_URL);
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_PAGE);
  });
  return router;
}
