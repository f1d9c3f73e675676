#!/usr/bin/env node
'use strict';
// razorpay-standin.js - the tests' Razorpay: Orders and Refunds on
// 127.0.0.1, with Basic auth, the checks Razorpay makes on an order (amount
// an integer in the smallest unit, at least the currency's minimum; receipt;
// notes) and answers and errors in Razorpay's documented shapes. Same attempt
// log, faults and control API as the Stripe stand-in. See README.md.
//
//   node razorpay-standin.js [--port N] [--port-file FILE]
//        [--key-id rzp_test_...] [--key-secret SECRET]
const crypto = require('node:crypto');
const { StandIn, parseArgs, main, sleep } = require('./lib/common');

// Currencies accepted, with the minimum order amount in the smallest unit
// (Razorpay: INR 1.00; other currencies their own minimum).
const MIN_AMOUNT = { INR: 100, USD: 50, EUR: 50, GBP: 30, SGD: 50, AED: 200, AUD: 50, CAD: 50 };
const MAX_AMOUNT = 100000000000; // a sanity bound (1e9 major units)
const RECEIPT_MAX = 40;
const NOTES_MAX_KEYS = 15;
const NOTES_MAX_LEN = 256;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function rid(prefix) {
  const b = crypto.randomBytes(14);
  let s = '';
  for (let i = 0; i < 14; i++) s += ALNUM[b[i] % 62];
  return `${prefix}_${s}`;
}
const now = () => Math.floor(Date.now() / 1000);

function rzErr(status, description, field, code = 'BAD_REQUEST_ERROR', extra = {}) {
  const e = { code, description, source: 'business', step: 'payment_initiation', reason: 'input_validation_failed', metadata: {}, ...extra };
  if (field) e.field = field;
  return { status, body: { error: e } };
}
const NA = { source: 'NA', step: 'NA', reason: 'NA' };

class RazorpayStandIn extends StandIn {
  constructor(opts = {}) {
    super('razorpay');
    this.keyId = opts.key_id || 'rzp_test_StandInKey0001';
    this.keySecret = opts.key_secret || 'standin_secret_0001';
    this.reset();
  }

  reset() {
    this.orders = new Map();
    this.events = new Map();
    this.payments = new Map();
    this.refunds = new Map();
  }

  fault(f) {
    if (f.fault === '429') {
      return { ...rzErr(429, 'Too many requests', null, 'BAD_REQUEST_ERROR', NA), headers: { 'Retry-After': String(f.retry_after) } };
    }
    return rzErr(f.status || 500, 'The server encountered an error. The incident has been reported to admins.', null, 'SERVER_ERROR', NA);
  }

  auth(req) {
    const h = req.headers.authorization || '';
    const m = /^Basic (\S+)$/.exec(h);
    if (m) {
      const [id, ...rest] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
      const secret = rest.join(':');
      const eq = (x, y) => x.length === y.length && crypto.timingSafeEqual(Buffer.from(x), Buffer.from(y));
      if (eq(id, this.keyId) && eq(secret, this.keySecret)) return null;
    }
    return rzErr(401, 'Authentication failed', null, 'BAD_REQUEST_ERROR', NA);
  }

  // Razorpay Checkout, as a merchant page loads it (no auth: it is public):
  // checkout.js defines window.Razorpay, whose open() shows Razorpay's frame
  // (here /v1/checkout/embedded); paying there posts the handler's response
  // (payment id, order id, signature) back to the page, as Razorpay's does.
  checkoutAsset(req, url, raw) {
    const origin = `http://${req.headers.host}`;
    const q = url.searchParams;
    const esc = (v) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    if (req.method === 'GET' && url.pathname === '/v1/checkout.js') {
      const js = `(function () {
  var origin = ${JSON.stringify(origin)};
  function Razorpay(o) { this.o = o; }
  Razorpay.prototype.open = function () {
    var o = this.o;
    var f = document.createElement("iframe");
    f.id = "razorpay-checkout-frame";
    f.style.cssText = "position:fixed;top:5%;left:5%;width:90%;height:70%;background:#fff";
    f.src = origin + "/v1/checkout/embedded?order_id=" + encodeURIComponent(o.order_id) +
      "&key_id=" + encodeURIComponent(o.key);
    window.addEventListener("message", function h(e) {
      if (e.origin !== origin || !e.data || !e.data.razorpay_payment_id) { return; }
      window.removeEventListener("message", h);
      f.remove();
      o.handler(e.data);
    });
    document.body.appendChild(f);
  };
  window.Razorpay = Razorpay;
})();
`;
      return { status: 200, html: js, headers: { 'Content-Type': 'application/javascript; charset=utf-8' } };
    }
    if (req.method === 'GET' && url.pathname === '/v1/checkout/embedded') {
      const o = this.orders.get(q.get('order_id') || '');
      if (!o || q.get('key_id') !== this.keyId) {
        return { status: 400, html: '<!doctype html><p id="error">Invalid order or key</p>' };
      }
      return { status: 200, html: `<!doctype html><html><head><meta charset="utf-8"><title>Razorpay stand-in</title></head><body>
<p id="order">${esc(o.id)}: ${esc(o.amount)} ${esc(o.currency)}</p>
<form method="post" action="/v1/checkout/embedded/pay"><input type="hidden" name="order_id" value="${esc(o.id)}"><button id="pay" type="submit">Pay</button></form>
</body></html>` };
    }
    if (req.method === 'POST' && url.pathname === '/v1/checkout/embedded/pay') {
      const id = new URLSearchParams(raw || '').get('order_id') || '';
      const out = this.pay(id, {});
      if (out.status !== 200) return { status: out.status, html: `<!doctype html><p id="error">${esc(out.body.error)}</p>` };
      this.events.set(id, out.body.event);
      const resp = { razorpay_payment_id: out.body.payment.id, razorpay_order_id: id,
        razorpay_signature: out.body.razorpay_signature };
      return { status: 200, html: `<!doctype html><html><body><p id="paid">paid</p><script>
parent.postMessage(${JSON.stringify(resp)}, "*");
</script></body></html>` };
    }
    return null;
  }

  async handle({ req, url, raw, attempt, delay }) {
    if (delay) await sleep(delay);
    const asset = this.checkoutAsset(req, url, raw);
    if (asset) return asset;
    const bad = this.auth(req);
    if (bad) return bad;
    let body = {};
    if (req.method === 'POST') {
      const ct = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
      if (raw && ct !== 'application/json') return rzErr(400, 'The request body must be JSON (Content-Type: application/json)', null);
      if (raw) {
        try { body = JSON.parse(raw); } catch { return rzErr(400, 'The request body is not valid JSON', null); }
        if (!body || typeof body !== 'object' || Array.isArray(body)) return rzErr(400, 'The request body must be a JSON object', null);
      }
    }
    attempt.params = body;
    const p = url.pathname;
    let m;
    if (req.method === 'POST' && p === '/v1/orders') return this.createOrder(body);
    if (req.method === 'GET' && p === '/v1/orders') {
      // Razorpay's "Fetch all orders": a collection, newest first; the
      // documented filters receipt, authorized and count (1..100, default 10)
      const q = url.searchParams;
      const count = q.has('count') ? Number(q.get('count')) : 10;
      if (!Number.isInteger(count) || count < 1 || count > 100) return rzErr(400, 'The count must be between 1 and 100.', 'count');
      let items = [...this.orders.values()].reverse();
      if (q.has('receipt')) items = items.filter((o) => o.receipt === q.get('receipt'));
      items = items.slice(0, count);
      return { status: 200, body: { entity: 'collection', count: items.length, items } };
    }
    if (req.method === 'GET' && (m = /^\/v1\/orders\/([^/]+)$/.exec(p))) {
      const o = this.orders.get(m[1]);
      return o ? { status: 200, body: o } : rzErr(400, 'The id provided does not exist', 'id');
    }
    if (req.method === 'GET' && (m = /^\/v1\/payments\/([^/]+)$/.exec(p))) {
      const pay = this.payments.get(m[1]);
      return pay ? { status: 200, body: pay } : rzErr(400, 'The id provided does not exist', 'id');
    }
    if (req.method === 'POST' && (m = /^\/v1\/payments\/([^/]+)\/refund$/.exec(p))) return this.refund(m[1], body);
    if (req.method === 'GET' && (m = /^\/v1\/refunds\/([^/]+)$/.exec(p))) {
      const r = this.refunds.get(m[1]);
      return r ? { status: 200, body: r } : rzErr(400, 'The id provided does not exist', 'id');
    }
    return rzErr(400, 'The requested URL was not found on the server.', null, 'BAD_REQUEST_ERROR', NA);
  }

  checkNotes(notes) {
    if (notes === undefined) return null;
    if (!notes || typeof notes !== 'object' || Array.isArray(notes)) return rzErr(400, 'The notes must be an object.', 'notes');
    const keys = Object.keys(notes);
    if (keys.length > NOTES_MAX_KEYS) return rzErr(400, `Number of fields in notes should be less than or equal to ${NOTES_MAX_KEYS}`, 'notes');
    for (const k of keys) {
      const v = notes[k];
      if (typeof v !== 'string' && typeof v !== 'number') return rzErr(400, `The notes.${k} must be a string.`, 'notes');
      if (String(v).length > NOTES_MAX_LEN || k.length > NOTES_MAX_LEN) {
        return rzErr(400, `Notes value must not be greater than ${NOTES_MAX_LEN} characters (notes.${k})`, 'notes');
      }
    }
    return null;
  }

  createOrder(b) {
    const allowed = ['amount', 'currency', 'receipt', 'notes', 'partial_payment', 'first_payment_min_amount'];
    const extra = Object.keys(b).filter((k) => !allowed.includes(k));
    if (extra.length) return rzErr(400, `${extra.join(', ')} is/are not required and should not be sent`, extra[0]);
    if (b.amount === undefined) return rzErr(400, 'The amount field is required.', 'amount');
    if (typeof b.amount !== 'number' || !Number.isInteger(b.amount)) return rzErr(400, 'The amount must be an integer.', 'amount');
    if (b.currency === undefined) return rzErr(400, 'The currency field is required.', 'currency');
    if (typeof b.currency !== 'string' || !(b.currency in MIN_AMOUNT)) return rzErr(400, 'The selected currency is invalid.', 'currency');
    const min = MIN_AMOUNT[b.currency];
    if (b.amount < min) {
      return rzErr(400, `The amount must be atleast ${b.currency} ${(min / 100).toFixed(2)}`, 'amount');
    }
    if (b.amount > MAX_AMOUNT) return rzErr(400, 'Amount exceeds maximum amount allowed.', 'amount');
    if (b.receipt !== undefined && b.receipt !== null) {
      if (typeof b.receipt !== 'string') return rzErr(400, 'The receipt must be a string.', 'receipt');
      if (b.receipt.length > RECEIPT_MAX) return rzErr(400, `The receipt may not be greater than ${RECEIPT_MAX} characters.`, 'receipt');
    }
    const nerr = this.checkNotes(b.notes);
    if (nerr) return nerr;
    if (b.partial_payment !== undefined && typeof b.partial_payment !== 'boolean') return rzErr(400, 'The partial payment field must be true or false.', 'partial_payment');
    const o = {
      id: rid('order'), entity: 'order', amount: b.amount, amount_paid: 0, amount_due: b.amount,
      currency: b.currency, receipt: b.receipt ?? null, offer_id: null, status: 'created', attempts: 0,
      notes: b.notes && Object.keys(b.notes).length ? { ...b.notes } : [], created_at: now(),
    };
    this.orders.set(o.id, o);
    return { status: 200, body: o };
  }

  refund(payId, b) {
    const allowed = ['amount', 'speed', 'notes', 'receipt'];
    const extra = Object.keys(b).filter((k) => !allowed.includes(k));
    if (extra.length) return rzErr(400, `${extra.join(', ')} is/are not required and should not be sent`, extra[0]);
    const pay = this.payments.get(payId);
    if (!pay) return rzErr(400, 'The id provided does not exist', 'id');
    if (pay.status !== 'captured' && pay.status !== 'refunded') return rzErr(400, 'The payment has not been captured', 'id');
    const left = pay.amount - pay.amount_refunded;
    if (left === 0) return rzErr(400, 'The payment has been fully refunded already', 'id');
    const amount = b.amount === undefined ? left : b.amount;
    if (typeof amount !== 'number' || !Number.isInteger(amount)) return rzErr(400, 'The amount must be an integer.', 'amount');
    if (amount < 100) return rzErr(400, 'The amount must be atleast INR 1.00', 'amount');
    if (amount > left) return rzErr(400, 'The refund amount provided is greater than amount captured', 'amount');
    if (b.speed !== undefined && !['normal', 'optimum'].includes(b.speed)) return rzErr(400, 'The selected speed is invalid.', 'speed');
    if (b.receipt !== undefined && (typeof b.receipt !== 'string' || b.receipt.length > RECEIPT_MAX)) {
      return rzErr(400, `The receipt may not be greater than ${RECEIPT_MAX} characters.`, 'receipt');
    }
    const nerr = this.checkNotes(b.notes);
    if (nerr) return nerr;
    pay.amount_refunded += amount;
    pay.refund_status = pay.amount_refunded === pay.amount ? 'full' : 'partial';
    if (pay.amount_refunded === pay.amount) pay.status = 'refunded';
    const r = {
      id: rid('rfnd'), entity: 'refund', amount, currency: pay.currency, payment_id: pay.id,
      notes: b.notes && Object.keys(b.notes).length ? { ...b.notes } : [], receipt: b.receipt ?? null,
      acquirer_data: { arn: null }, created_at: now(), batch_id: null, status: 'processed',
      speed_processed: 'normal', speed_requested: b.speed || 'normal',
    };
    this.refunds.set(r.id, r);
    return { status: 200, body: r };
  }

  // The customer pays an order: a captured payment, the order paid, the
  // checkout handler's signature and the order.paid webhook payload.
  pay(orderId, opts = {}) {
    const o = this.orders.get(orderId);
    if (!o) return { status: 404, body: { error: `no order ${orderId}` } };
    if (o.status === 'paid') return { status: 409, body: { error: `order ${orderId} is already paid` } };
    const pay = {
      id: rid('pay'), entity: 'payment', amount: o.amount, currency: o.currency, status: 'captured',
      order_id: o.id, invoice_id: null, international: false, method: opts.method || 'upi',
      amount_refunded: 0, refund_status: null, captured: true, description: null, card_id: null,
      bank: null, wallet: null, vpa: 'buyer@upi', email: opts.email || 'buyer@example.com',
      contact: '+919000090000', notes: o.notes, fee: Math.round(o.amount * 0.02), tax: 0,
      error_code: null, error_description: null, error_source: null, error_step: null, error_reason: null,
      acquirer_data: {}, created_at: now(),
    };
    this.payments.set(pay.id, pay);
    o.attempts += 1;
    o.amount_paid = o.amount;
    o.amount_due = 0;
    o.status = 'paid';
    const signature = crypto.createHmac('sha256', this.keySecret).update(`${o.id}|${pay.id}`).digest('hex');
    const event = {
      entity: 'event', account_id: 'acc_StandInAccount1', event: 'order.paid', contains: ['payment', 'order'],
      payload: { payment: { entity: pay }, order: { entity: o } }, created_at: now(),
    };
    return { status: 200, body: { order: o, payment: pay, razorpay_signature: signature, event } };
  }

  async control(method, path, body) {
    const m = /^\/__standin\/orders\/([^/]+)\/pay$/.exec(path);
    if (method === 'POST' && m) return this.pay(decodeURIComponent(m[1]), body || {});
    const e = /^\/__standin\/orders\/([^/]+)\/event$/.exec(path);
    if (method === 'GET' && e) {
      const ev = this.events.get(decodeURIComponent(e[1]));
      return ev ? { status: 200, body: ev } : { status: 404, body: { error: `no payment of ${e[1]} through Checkout` } };
    }
    if (method === 'GET' && path === '/__standin/state') {
      return { status: 200, body: { orders: [...this.orders.values()], payments: [...this.payments.values()], refunds: [...this.refunds.values()] } };
    }
    return null;
  }
}

module.exports = { RazorpayStandIn };

if (require.main === module) {
  const opts = parseArgs(process.argv.slice(2));
  const si = new RazorpayStandIn(opts);
  main(si, {
    handle: (ctx) => si.handle(ctx), fault: (f) => si.fault(f),
    reset: () => si.reset(), control: (m, p, b) => si.control(m, p, b),
  }, opts).catch((e) => { process.stderr.write(`razorpay stand-in: ${e.message}\n`); process.exit(1); });
}
