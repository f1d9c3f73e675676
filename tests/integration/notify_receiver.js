// notify_receiver.js - a merchant's webhook receiver for notify_test.sh,
// written with the `standardwebhooks` npm library (the signer's lockfile):
// every delivery is verified with Webhook.verify against each secret listed
// in SECRETS_FILE (one per line); a JSON line per delivery goes to LOG_FILE:
// {id, ts, type, n (attempt of this id seen here), verified: [bool per secret],
// answered}. Its behaviour comes from MODE_FILE (JSON, read at every request):
//   {"mode":"ok"}                  200
//   {"mode":"down"}                503
//   {"mode":"gone"}                410
//   {"mode":"plan","fail":N,"hang":H} per id: 500 for the first N attempts,
//                                  then no answer (hang) H times, then 200
//   {"mode":"hang"}                no answer at all (the sender's timeout)
// Each line also carries `inflight`: the requests open here when it arrived
// (itself included), to check the sender's per-endpoint limit.
// The clock: the server's injected clock (CLOCK_FILE, int64 ms, 0 = real), so
// the library's timestamp tolerance is judged in the same time as the sender's.
// usage: node notify_receiver.js PORT SECRETS_FILE MODE_FILE LOG_FILE CLOCK_FILE
'use strict';
const http = require('http');
const fs = require('fs');
const { Webhook } = require('standardwebhooks');

const [port, secretsFile, modeFile, logFile, clockFile] = process.argv.slice(2);
const realNow = Date.now.bind(Date);
Date.now = () => {
  try {
    const b = fs.readFileSync(clockFile);
    const v = Number(b.readBigInt64LE(0));
    return v !== 0 ? v : realNow();
  } catch (e) {
    return realNow();
  }
};
const seen = new Map();
let inflight = 0;

http.createServer((req, res) => {
  inflight++;
  const here = inflight;
  let done = false;
  const finish = () => { if (!done) { done = true; inflight--; } };
  res.on('finish', finish);
  res.on('close', finish);
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const id = req.headers['webhook-id'] || '';
    const n = (seen.get(id) || 0) + 1;
    seen.set(id, n);
    let secrets = [];
    try {
      secrets = fs.readFileSync(secretsFile, 'utf8').split('\n').filter((s) => s.length > 0);
    } catch (e) { /* none yet */ }
    const verified = secrets.map((s) => {
      try {
        new Webhook(s).verify(body, req.headers);
        return true;
      } catch (e) {
        return false;
      }
    });
    let mode = { mode: 'ok' };
    try { mode = JSON.parse(fs.readFileSync(modeFile, 'utf8')); } catch (e) { /* ok */ }
    let status = 200;
    if (mode.mode === 'down') status = 503;
    else if (mode.mode === 'gone') status = 410;
    else if (mode.mode === 'hang') status = 0;
    else if (mode.mode === 'plan') {
      if (n <= (mode.fail || 0)) status = 500;
      else if (n <= (mode.fail || 0) + (mode.hang || 0)) status = 0;
    }
    let type = '';
    try { type = JSON.parse(body).type; } catch (e) { type = '?'; }
    fs.appendFileSync(logFile, JSON.stringify({ id, ts: Number(req.headers['webhook-timestamp']),
      type, n, verified, answered: status, sig: req.headers['webhook-signature'],
      inflight: here }) + '\n');
    if (status === 0) return; // hang: the sender's timeout ends it
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(status === 200 ? 'ok' : 'no');
  });
}).listen(Number(port), '127.0.0.1', () => {
  fs.writeFileSync(logFile + '.ready', 'up\n');
});
