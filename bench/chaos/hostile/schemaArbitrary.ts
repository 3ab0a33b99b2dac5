import fc from 'fast-check';

/** The subset of JSON Schema (OpenAPI 3.1) that our document uses. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  example?: unknown;
}

export interface SchemaDocument {
  components?: { schemas?: Record<string, JsonSchema> };
}

/** Follows `#/components/schemas/X` references (the only kind zod-to-openapi emits). */
export function resolveSchema(schema: JsonSchema, doc: SchemaDocument): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref && hops < 32; hops += 1) {
    const name = current.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolvable $ref ${current.$ref}`);
    current = target;
  }
  return current;
}

/** Any JSON value, small: for schemas that say nothing (`{}`). */
const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 40, Math.max(minLength, 40));
  const fits = (text: string) => text.length >= (schema.minLength ?? 0) && text.length <= (schema.maxLength ?? Infinity);
  switch (schema.format) {
    case 'email':
      return fc.emailAddress().filter(fits);
    case 'date':
      return fc.date({ min: new Date('1990-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));
    case 'date-time':
      return fc.date({ min: new Date('1990-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((date) => date.toISOString());
    case 'uuid':
      return fc.uuid({ version: 4 });
    case 'uri':
    case 'url':
      return fc.webUrl({ validSchemes: ['https'] }).filter(fits);
    default:
      break;
  }
  if (schema.pattern) {
    // stringMatching ignores length bounds, so the bounds filter what it yields.
    return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  }
  return fc.string({ minLength, maxLength, unit: 'grapheme' }).filter(fits);
}

function numberArbitrary(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const low = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum : -1e6);
  const high = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum : 1e6);
  const inside = (value: number) =>
    (schema.exclusiveMinimum === undefined || value > schema.exclusiveMinimum) && (schema.exclusiveMaximum === undefined || value < schema.exclusiveMaximum);
  if (integer) return fc.integer({ min: Math.ceil(low), max: Math.floor(high) }).filter(inside);
  return fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true }).filter(inside);
}

/**
 * A fast-check arbitrary of values valid for `schema` (as far as the schema says: it cannot know
 * that a webhook URL must resolve). Optional properties are present about half of the time.
 */
export function arbitraryFromSchema(schema: JsonSchema, doc: SchemaDocument, depth = 0): fc.Arbitrary<unknown> {
  const resolved = resolveSchema(schema, doc);
  if (depth > 8) return fc.constant(null);
  if (resolved.enum) return fc.constantFrom(...resolved.enum);
  const variants = resolved.anyOf ?? resolved.oneOf;
  if (variants?.length) return fc.oneof(...variants.map((variant) => arbitraryFromSchema(variant, doc, depth + 1)));
  if (resolved.allOf?.length) return arbitraryFromSchema(Object.assign({}, ...resolved.allOf.map((part) => resolveSchema(part, doc))), doc, depth + 1);
  const types = Array.isArray(resolved.type) ? resolved.type : resolved.type ? [resolved.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => arbitraryFromSchema({ ...resolved, type }, doc, depth + 1)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return numberArbitrary(resolved, true);
    case 'number':
      return numberArbitrary(resolved, false);
    case 'string':
      return stringArbitrary(resolved);
    case 'array':
      return fc.array(resolved.items ? arbitraryFromSchema(resolved.items, doc, depth + 1) : anyJson, {
        minLength: resolved.minItems ?? 0,
        maxLength: Math.min(resolved.maxItems ?? 5, Math.max(resolved.minItems ?? 0, 5)),
      });
    case 'object': {
      const properties = resolved.properties ?? {};
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties)) record[name] = arbitraryFromSchema(property, doc, depth + 1);
      return fc.record(record, { requiredKeys: (resolved.required ?? []).filter((name) => name in properties) });
    }
    default:
      return resolved.properties ? arbitraryFromSchema({ ...resolved, type: 'object' }, doc, depth) : anyJson;
  }
}

/** Does `value` fit `schema`? The checker the unit tests hold the arbitraries to. */
export function fitsSchema(value: unknown, schema: JsonSchema, doc: SchemaDocument): boolean {
  const resolved = resolveSchema(schema, doc);
  if (resolved.enum) return resolved.enum.some((option) => option === value);
  const variants = resolved.anyOf ?? resolved.oneOf;
  if (variants?.length) return variants.some((variant) => fitsSchema(value, variant, doc));
  const types = Array.isArray(resolved.type) ? resolved.type : resolved.type ? [resolved.type] : [];
  if (types.length === 0) return resolved.properties ? fitsSchema(value, { ...resolved, type: 'object' }, doc) : true;
  return types.some((type) => fitsType(value, type, resolved, doc));
}

function fitsType(value: unknown, type: string, schema: JsonSchema, doc: SchemaDocument): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (type === 'integer' && !Number.isInteger(value)) return false;
      if (schema.minimum !== undefined && value < schema.minimum) return false;
      if (schema.maximum !== undefined && value > schema.maximum) return false;
      if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return false;
      if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return false;
      return true;
    case 'string':
      if (typeof value !== 'string') return false;
      if (schema.minLength !== undefined && value.length < schema.minLength) return false;
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return false;
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) return false;
      if (schema.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
      return true;
    case 'array':
      if (!Array.isArray(value)) return false;
      if (schema.minItems !== undefined && value.length < schema.minItems) return false;
      if (schema.maxItems !== undefined && value.length > schema.maxItems) return false;
      return !schema.items || value.every((item) => fitsSchema(item, schema.items as JsonSchema, doc));
    case 'object': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
      const record = value as Record<string, unknown>;
      const properties = schema.properties ?? {};
      if ((schema.required ?? []).some((name) => !(name in record))) return false;
      if (schema.additionalProperties === false && Object.keys(record).some((key) => !(key in properties))) return false;
      return Object.entries(record).every(([key, entry]) => !properties[key] || fitsSchema(entry, properties[key], doc));
    }
    default:
      return true;
  }
}
