'use strict';
// Shared plumbing of the provider stand-ins: an HTTP server on loopback,
// the attempt log, the fault queue and the control API under /__standin/.
//
// Control API (same on every stand-in):
//   GET  /__standin/requests        every attempt so far, oldest first
//   POST /__standin/faults          queue a fault (JSON, see queueFault)
//   GET  /__standin/faults          faults still queued
//   POST /__standin/reset           forget state, attempts and faults
// A stand-in adds its own /__standin/... calls through `control`.
const http = require('node:http');
const fs = require('node:fs');

const MAX_BODY = 1 << 20; // 1 MiB: Stripe and Razorpay bodies are far smaller
const MAX_ATTEMPTS = 100000; // the log keeps the newest; older ones are counted

const FAULT_KINDS = ['500', '429', 'no_retry', 'slow', 'drop', 'drop_after'];

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, obj, headers = {}, html = null) {
  if (res.destroyed || res.headersSent) return;
  if (html !== null) {
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html), ...headers });
    res.end(html);
    return;
  }
  const body = JSON.stringify(obj, null, 2) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

// The attempt log keeps every header but the credentials: Authorization is
// kept as its scheme and a masked key ("Bearer sk_test_4eC3…p7dc").
function redact(headers) {
  const h = { ...headers };
  if (h.authorization) {
    const [scheme, cred = ''] = h.authorization.split(' ');
    let shown = cred;
    if (/^basic$/i.test(scheme)) {
      const dec = Buffer.from(cred, 'base64').toString('utf8');
      shown = dec.split(':')[0] + ':…'; // Razorpay: key id is not secret, the secret is
    } else {
      shown = cred.length > 16 ? `${cred.slice(0, 12)}…${cred.slice(-4)}` : '…';
    }
    h.authorization = `${scheme} ${shown}`;
  }
  return h;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Parses the command line shared by the stand-ins:
//   --port N (0: any free port)   --port-file FILE (the port is written there)
// Other --name value / --name=value flags are returned in opts.
function parseArgs(argv) {
  const opts = { port: 0 };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    a = a.slice(2);
    let v;
    const eq = a.indexOf('=');
    if (eq >= 0) { v = a.slice(eq + 1); a = a.slice(0, eq); } else { v = argv[++i]; }
    if (v === undefined) throw new Error(`--${a} needs a value`);
    opts[a.replace(/-/g, '_')] = v;
  }
  opts.port = Number(opts.port);
  return opts;
}

// A stand-in: name, handle(ctx) -> {status, body, headers} for provider calls,
// control(ctx) -> same or null for its own /__standin/ calls, reset().
class StandIn {
  constructor(name) {
    this.name = name;
    this.attempts = [];
    this.faults = [];
    this.seq = 0;
    this.attemptsDropped = 0;
  }

  // {path, method?, fault, count?, retry_after?, delay_ms?, status?}
  // `path` is an exact request path or a prefix ending in '*'.
  queueFault(f) {
    if (!f || typeof f !== 'object') throw new Error('fault: a JSON object is expected');
    if (!FAULT_KINDS.includes(String(f.fault))) throw new Error(`fault: one of ${FAULT_KINDS.join(', ')}`);
    if (typeof f.path !== 'string' || !f.path.startsWith('/')) throw new Error('fault: path must start with /');
    const count = f.count === undefined ? 1 : Number(f.count);
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error('fault: count is an integer 1..1000');
    const delay = f.delay_ms === undefined ? 5000 : Number(f.delay_ms);
    if (!Number.isInteger(delay) || delay < 0 || delay > 600000) throw new Error('fault: delay_ms is an integer 0..600000');
    const ra = f.retry_after === undefined ? 1 : Number(f.retry_after);
    if (!Number.isInteger(ra) || ra < 0 || ra > 3600) throw new Error('fault: retry_after is an integer 0..3600 (seconds)');
    const status = f.status === undefined ? null : Number(f.status);
    if (status !== null && !(Number.isInteger(status) && status >= 400 && status <= 599)) throw new Error('fault: status is an integer 400..599');
    const q = { path: f.path, method: f.method ? String(f.method).toUpperCase() : null, fault: String(f.fault),
      count, delay_ms: delay, retry_after: ra, status };
    this.faults.push(q);
    return q;
  }

  takeFault(method, path) {
    const i = this.faults.findIndex((f) => (!f.method || f.method === method) &&
      (f.path.endsWith('*') ? path.startsWith(f.path.slice(0, -1)) : f.path === path));
    if (i < 0) return null;
    const f = this.faults[i];
    if (--f.count === 0) this.faults.splice(i, 1);
    return { ...f };
  }

  resetCommon() { this.attempts = []; this.faults = []; this.attemptsDropped = 0; }

  listen(port, handlers) {
    const server = http.createServer((req, res) => {
      this.serve(req, res, handlers).catch((e) => {
        sendJson(res, 500, { error: { type: 'api_error', message: `stand-in bug: ${e.stack || e}` } });
      });
    });
    server.keepAliveTimeout = 5000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  }

  async serve(req, res, handlers) {
    const url = new URL(req.url, 'http://127.0.0.1');
    let raw;
    try { raw = await readBody(req); } catch (e) {
      sendJson(res, 413, { error: { type: 'invalid_request_error', message: 'request body too large' } });
      return;
    }
    if (url.pathname.startsWith('/__standin/')) {
      const out = await this.controlCommon(req.method, url, raw, handlers);
      sendJson(res, out.status, out.body);
      return;
    }
    const attempt = { seq: ++this.seq, at: new Date().toISOString(), method: req.method, path: url.pathname,
      query: url.search ? url.search.slice(1) : '', headers: redact(req.headers),
      idempotency_key: req.headers['idempotency-key'] ?? null, raw_body: raw, params: null,
      fault: null, status: null, replayed: false };
    this.attempts.push(attempt);
    if (this.attempts.length > MAX_ATTEMPTS) { this.attempts.shift(); this.attemptsDropped++; }
    const fault = this.takeFault(req.method, url.pathname);
    if (fault) attempt.fault = fault.fault;
    if (fault && fault.fault === 'drop') {
      attempt.status = 'dropped';
      req.socket.destroy();
      return;
    }
    if (fault && ['500', '429', 'no_retry'].includes(fault.fault)) {
      const out = handlers.fault(fault, attempt);
      attempt.status = out.status;
      sendJson(res, out.status, out.body, out.headers);
      return;
    }
    // 'slow': the stand-in waits delay_ms where its work starts (Stripe: with
    // the idempotency key already in use), then answers.
    const delay = fault && fault.fault === 'slow' ? fault.delay_ms : 0;
    const out = await handlers.handle({ req, url, raw, attempt, delay });
    attempt.status = out.status;
    if (fault && fault.fault === 'drop_after') {
      attempt.status = `dropped after ${out.status}`;
      req.socket.destroy();
      return;
    }
    sendJson(res, out.status, out.body, out.headers, out.html ?? null);
  }

  async controlCommon(method, url, raw, handlers) {
    const p = url.pathname;
    let body = null;
    if (raw) {
      try { body = JSON.parse(raw); } catch { return { status: 400, body: { error: 'control API: JSON body expected' } }; }
    }
    if (method === 'GET' && p === '/__standin/requests') return { status: 200, body: { requests: this.attempts, dropped: this.attemptsDropped } };
    if (method === 'GET' && p === '/__standin/faults') return { status: 200, body: { faults: this.faults } };
    if (method === 'POST' && p === '/__standin/faults') {
      try {
        const list = Array.isArray(body) ? body : [body];
        return { status: 200, body: { queued: list.map((f) => this.queueFault(f)) } };
      } catch (e) { return { status: 400, body: { error: e.message } }; }
    }
    if (method === 'POST' && p === '/__standin/reset') {
      this.resetCommon();
      handlers.reset();
      return { status: 200, body: { reset: true } };
    }
    const out = handlers.control ? await handlers.control(method, p, body) : null;
    return out || { status: 404, body: { error: `control API: no ${method} ${p}` } };
  }
}

// Starts a stand-in from the command line: prints {"name","port","url"} as
// the first line on stdout (and writes the port to --port-file if given).
async function main(standin, handlers, opts) {
  const server = await standin.listen(opts.port, handlers);
  const port = server.address().port;
  if (opts.port_file) {
    fs.writeFileSync(opts.port_file + '.tmp', `${port}\n`);
    fs.renameSync(opts.port_file + '.tmp', opts.port_file);
  }
  process.stdout.write(JSON.stringify({ name: standin.name, port, url: `http://127.0.0.1:${port}` }) + '\n');
  const stop = () => { server.close(); server.closeAllConnections(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}

module.exports = { StandIn, sendJson, parseArgs, main, sleep, FAULT_KINDS };
