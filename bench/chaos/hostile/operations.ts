import { JsonSchema, SchemaDocument } from './schemaArbitrary';

export interface OpenApiDocument extends SchemaDocument {
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, OpenApiOperation>>;
}

interface OpenApiOperation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: 'path' | 'query' | 'header' | 'cookie'; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema; example?: unknown }> };
}

/** How a route authenticates, as the document says. */
export type Credential = 'api_key' | 'crm_client' | 'crm_token' | 'signature' | 'none';

export interface WriteOperation {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path template, e.g. /api/v1/listings/{id}. */
  path: string;
  operationId: string;
  pathParams: string[];
  queryParams: { name: string; schema: JsonSchema; required: boolean }[];
  headerParams: { name: string; schema: JsonSchema; required: boolean }[];
  /** The declared body type and schema, if the route takes a body. */
  contentType?: string;
  bodySchema?: JsonSchema;
  bodyExample?: unknown;
  credential: Credential;
}

const WRITE_METHODS = ['post', 'put', 'patch', 'delete'] as const;

function credentialOf(op: OpenApiOperation, doc: OpenApiDocument, headers: string[]): Credential {
  const security = op.security ?? doc.security ?? [];
  const schemes = security.flatMap((entry) => Object.keys(entry));
  if (schemes.includes('CrmToken')) return 'crm_token';
  if (schemes.includes('ApiKey') || schemes.includes('BearerKey')) return 'api_key';
  const lower = headers.map((name) => name.toLowerCase());
  if (lower.includes('x-crm-client-secret')) return 'crm_client';
  if (lower.includes('x-webhook-signature') || lower.includes('webhook-signature')) return 'signature';
  return 'none';
}

/** Every POST/PUT/PATCH/DELETE the document lists, in document order. */
export function writeOperations(doc: OpenApiDocument): WriteOperation[] {
  const operations: WriteOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of WRITE_METHODS) {
      const op = item[method];
      if (!op) continue;
      const parameters = op.parameters ?? [];
      const headerParams = parameters.filter((p) => p.in === 'header').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required ?? false }));
      const [contentType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
      operations.push({
        method: method.toUpperCase() as WriteOperation['method'],
        path,
        operationId: op.operationId ?? `${method} ${path}`,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required ?? false })),
        headerParams,
        contentType,
        bodySchema: media?.schema,
        bodyExample: media?.example,
        credential: credentialOf(op, doc, headerParams.map((p) => p.name)),
      });
    }
  }
  return operations;
}

/** The path with its parameters filled in (each URL-encoded unless `raw` names it). */
export function fillPath(template: string, values: Record<string, string>, raw: Set<string> = new Set()): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${template}`);
    return raw.has(name) ? value : encodeURIComponent(value);
  });
}
