#!/usr/bin/env node
// telegram-standin.js - the tests' Telegram Bot API on loopback (issue 11):
// node's `http`, no npm package. POST /bot<TOKEN>/sendMessage with a JSON
// (or form) body {chat_id, text} answers as the Bot API does:
//   200 {"ok":true,"result":{message_id, from, chat, date, text}}
//   401 {"ok":false,"error_code":401,"description":"Unauthorized"}  (another token)
//   400 "Bad Request: chat not found"             (chat in --not-found)
//   400 "Bad Request: message text is empty"      (no text)
//   400 "Bad Request: message is too long"        (more than 4096 characters)
//   403 "Forbidden: bot was blocked by the user"  (chat in --blocked)
//   429 "Too Many Requests: retry after N" with parameters.retry_after N
//                                                 (chat in --flood CHAT=N)
//   500 "Internal Server Error"                   (chat in --error500)
//   404 {"ok":false,"error_code":404,"description":"Not Found"} (another path)
// Every request to a /bot path is appended to --log as one JSON line
//   {"path_token_ok": bool, "method": "sendMessage", "content_type": "...",
//    "body": {...}, "status": N}
// (the token itself is never written). The port (--port, 0: any) is written
// to --port-file once it listens (temporary name, then renamed). Ends on
// SIGTERM. With --tls-cert/--tls-key it serves https instead of http.
'use strict';

const http = require('http');
const https = require('https');
const fs = require('fs');

const args = { port: 0, token: null, log: null, portFile: null,
  blocked: new Set(), notFound: new Set(), error500: new Set(), flood: new Map(),
  tlsCert: null, tlsKey: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const v = process.argv[i + 1];
  switch (a) {
    case '--port': args.port = parseInt(v, 10); i++; break;
    case '--token': args.token = v; i++; break;
    case '--log': args.log = v; i++; break;
    case '--port-file': args.portFile = v; i++; break;
    case '--tls-cert': args.tlsCert = v; i++; break;
    case '--tls-key': args.tlsKey = v; i++; break;
    case '--blocked': args.blocked.add(v); i++; break;
    case '--not-found': args.notFound.add(v); i++; break;
    case '--error500': args.error500.add(v); i++; break;
    case '--flood': {
      const at = v.lastIndexOf('=');
      args.flood.set(v.slice(0, at), parseInt(v.slice(at + 1), 10));
      i++;
      break;
    }
    default:
      process.stderr.write(`telegram-standin: unknown argument ${a}\n`);
      process.exit(2);
  }
}
if (!args.token || !args.log || !args.portFile) {
  process.stderr.write('usage: telegram-standin.js --token T --log FILE --port-file FILE ' +
    '[--port N] [--blocked CHAT] [--not-found CHAT] [--error500 CHAT] [--flood CHAT=SECONDS]\n');
  process.exit(2);
}

const BODY_MAX = 64 * 1024;
const botId = parseInt(args.token.split(':')[0], 10);
let nextMessageId = 1;

function answer(res, status, obj, extraHeaders) {
  const body = JSON.stringify(obj);
  res.writeHead(status, Object.assign({ 'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body) }, extraHeaders || {}));
  res.end(body);
}

// The answer is decided first, logged, then sent: a client that got it
// finds its request in the log already.
let pending = null;
function fail(res, code, description, parameters) {
  const obj = { ok: false, error_code: code, description };
  if (parameters) {
    obj.parameters = parameters;
  }
  pending = [code, obj];
  return code;
}

const handler = (req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= BODY_MAX) {
      chunks.push(c);
    }
  });
  req.on('end', () => {
    const m = /^\/bot([^/]*)\/([A-Za-z]+)$/.exec(req.url);
    if (!m) {
      answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    const tokenOk = m[1] === args.token;
    const ctype = req.headers['content-type'] || '';
    let body = null;
    const raw = Buffer.concat(chunks).toString('utf8');
    try {
      if (ctype.startsWith('application/json')) {
        body = JSON.parse(raw);
      } else if (ctype.startsWith('application/x-www-form-urlencoded')) {
        body = Object.fromEntries(new URLSearchParams(raw));
      }
    } catch (e) {
      body = null;
    }
    let status;
    if (!tokenOk) {
      status = fail(res, 401, 'Unauthorized');
    } else if (m[2] !== 'sendMessage') {
      status = fail(res, 404, 'Not Found');
    } else if (req.method !== 'POST' && req.method !== 'GET') {
      status = fail(res, 405, 'Method Not Allowed');
    } else if (size > BODY_MAX || body === null || typeof body !== 'object') {
      status = fail(res, 400, 'Bad Request: invalid request body');
    } else {
      const chat = body.chat_id === undefined ? '' : String(body.chat_id);
      const text = body.text === undefined ? '' : String(body.text);
      if (chat === '') {
        status = fail(res, 400, 'Bad Request: chat_id is empty');
      } else if (args.notFound.has(chat)) {
        status = fail(res, 400, 'Bad Request: chat not found');
      } else if (args.blocked.has(chat)) {
        status = fail(res, 403, 'Forbidden: bot was blocked by the user');
      } else if (args.flood.has(chat)) {
        const s = args.flood.get(chat);
        status = fail(res, 429, `Too Many Requests: retry after ${s}`, { retry_after: s });
      } else if (args.error500.has(chat)) {
        status = fail(res, 500, 'Internal Server Error');
      } else if (text.trim() === '') {
        status = fail(res, 400, 'Bad Request: message text is empty');
      } else if ([...text].length > 4096) {
        status = fail(res, 400, 'Bad Request: message is too long');
      } else {
        status = 200;
        const isName = chat.startsWith('@');
        pending = [200, { ok: true, result: {
          message_id: nextMessageId++,
          from: { id: botId, is_bot: true, first_name: 'paywire test', username: 'paywire_test_bot' },
          chat: isName ? { id: -1001000000000, title: chat.slice(1), username: chat.slice(1), type: 'channel' }
                       : { id: Number(chat), first_name: 'Merchant', type: 'private' },
          date: Math.floor(Date.now() / 1000),
          text } }];
      }
    }
    fs.appendFileSync(args.log, JSON.stringify({ path_token_ok: tokenOk, method: m[2],
      http_method: req.method, content_type: ctype, body, status }) + '\n');
    answer(res, pending[0], pending[1]);
  });
};
const server = args.tlsCert
  ? https.createServer({ cert: fs.readFileSync(args.tlsCert), key: fs.readFileSync(args.tlsKey) },
    handler)
  : http.createServer(handler);
server.on('tlsClientError', () => {});

server.listen(args.port, '127.0.0.1', () => {
  const tmp = args.portFile + '.tmp';
  fs.writeFileSync(tmp, String(server.address().port));
  fs.renameSync(tmp, args.portFile);
});
process.on('SIGTERM', () => process.exit(0));
