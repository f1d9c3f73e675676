#!/usr/bin/env node
// smtp-sink.js - the tests' SMTP relay on loopback (issue 11): a real SMTP
// server (RFC 5321) on node's `net`, no npm package. It speaks EHLO/HELO,
// AUTH PLAIN and AUTH LOGIN (checked against --user/--password; when a user
// is configured, MAIL before a successful AUTH is refused with 530), MAIL
// FROM, RCPT TO, DATA (dot-stuffing undone as RFC 5321 4.5.2 says), RSET,
// NOOP and QUIT. With --tls-cert/--tls-key it offers STARTTLS (RFC 3207:
// the session starts over on the TLS socket), or with --implicit-tls it
// speaks TLS from the first byte (smtps); without them it offers no TLS.
// Each accepted message is appended as one JSON line to --out:
//   {"from": "...", "to": ["..."], "auth_user": "..." | null,
//    "auth_mech": "PLAIN" | "LOGIN" | null, "tls": true | false,
//    "data": "<the message, CRLF>",
//    "unstuffed": <lines whose leading dot was removed>}
// Every AUTH attempt is appended to --out too, as
//   {"auth": "PLAIN"|"LOGIN", "user": "...", "ok": true|false}
// (the password it got is never written).
// Scripted refusals: --reply ADDR=CODE answers CODE to RCPT TO:<ADDR>
// (451: "try again later", 550: "no such user", any other 4xx/5xx: a generic
// text), --data-reply ADDR=CODE answers CODE after the DATA of a message to
// ADDR (its message is not written).
// The port it listens on (--port, 0: any) is written to --port-file once it
// listens (written to a temporary name, then renamed: a reader never sees
// half of it). Ends on SIGTERM.
'use strict';

const net = require('net');
const tls = require('tls');
const fs = require('fs');

const args = { port: 0, out: null, portFile: null, user: null, password: null,
  reply: new Map(), dataReply: new Map(), tlsCert: null, tlsKey: null, implicitTls: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const v = process.argv[i + 1];
  const kv = (m) => {
    const at = v.lastIndexOf('=');
    m.set(v.slice(0, at).toLowerCase(), parseInt(v.slice(at + 1), 10));
  };
  switch (a) {
    case '--port': args.port = parseInt(v, 10); i++; break;
    case '--out': args.out = v; i++; break;
    case '--port-file': args.portFile = v; i++; break;
    case '--user': args.user = v; i++; break;
    case '--password': args.password = v; i++; break;
    case '--reply': kv(args.reply); i++; break;
    case '--data-reply': kv(args.dataReply); i++; break;
    case '--tls-cert': args.tlsCert = v; i++; break;
    case '--tls-key': args.tlsKey = v; i++; break;
    case '--implicit-tls': args.implicitTls = true; break;
    default:
      process.stderr.write(`smtp-sink: unknown argument ${a}\n`);
      process.exit(2);
  }
}
if (!args.out || !args.portFile) {
  process.stderr.write('usage: smtp-sink.js --out FILE --port-file FILE [--port N] ' +
    '[--user U --password P] [--reply ADDR=CODE]... [--data-reply ADDR=CODE]...\n');
  process.exit(2);
}

const HOST = 'sink.test';
const LINE_MAX = 1000;              // RFC 5321 4.5.3.1.6: a text line, CRLF included
const MESSAGE_MAX = 1024 * 1024;    // what a DATA may carry (SIZE announced)
const TEXTS = { 421: '4.3.0 Service not available', 450: '4.2.0 Mailbox unavailable',
  451: '4.3.0 Requested action aborted: try again later', 452: '4.3.1 Insufficient storage',
  550: '5.1.1 No such user here', 552: '5.3.4 Message too big', 553: '5.1.3 Bad address',
  554: '5.7.1 Message rejected' };

function record(obj) {
  fs.appendFileSync(args.out, JSON.stringify(obj) + '\n');
}

function angle(arg, verb) {
  // "FROM:<a@b> SIZE=1" -> "a@b"; null when not in that form
  const m = new RegExp(`^${verb}:\\s*<([^<>]*)>(\\s.*)?$`, 'i').exec(arg);
  return m ? m[1] : null;
}

let delivered = 0;

const tlsContext = args.tlsCert
  ? tls.createSecureContext({ cert: fs.readFileSync(args.tlsCert), key: fs.readFileSync(args.tlsKey) })
  : null;

function session(sock, secure) {
  let buf = Buffer.alloc(0);
  let st = { authed: false, authUser: null, authMech: null, from: null, to: [] };
  let mode = 'cmd';           // cmd | data | auth-plain | auth-login-user | auth-login-pass
  let loginUser = null;
  let data = [];
  let dataBytes = 0;
  let unstuffed = 0;

  const send = (line) => sock.write(line + '\r\n');
  const resetTx = () => { st.from = null; st.to = []; };

  function checkAuth(mech, user, pass) {
    const ok = args.user !== null && user === args.user && pass === args.password;
    record({ auth: mech, user, ok });
    if (ok) {
      st.authed = true;
      st.authUser = user;
      st.authMech = mech;
      send('235 2.7.0 Authentication successful');
    } else {
      send('535 5.7.8 Authentication credentials invalid');
    }
  }

  function plain(b64) {
    const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
    if (parts.length !== 3) {
      send('501 5.5.2 Cannot decode AUTH PLAIN');
      return;
    }
    checkAuth('PLAIN', parts[1], parts[2]);
  }

  function endData() {
    const message = data.join('');
    const to = st.to.slice();
    data = [];
    mode = 'cmd';
    if (dataBytes > MESSAGE_MAX) {
      send(`552 ${TEXTS[552]}`);
    } else {
      const code = to.map((a) => args.dataReply.get(a.toLowerCase())).find((c) => c);
      if (code) {
        send(`${code} ${TEXTS[code] || (code >= 500 ? '5.0.0 Refused' : '4.0.0 Deferred')}`);
      } else {
        delivered++;
        record({ from: st.from, to, auth_user: st.authUser, auth_mech: st.authMech,
          tls: secure, data: message, unstuffed });
        send(`250 2.0.0 Ok: queued as M${delivered}`);
      }
    }
    resetTx();
  }

  function command(line) {
    const sp = line.indexOf(' ');
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    switch (verb) {
      case 'EHLO':
        resetTx();
        sock.write(`250-${HOST} greets ${arg}\r\n` +
          (args.user !== null ? '250-AUTH PLAIN LOGIN\r\n' : '') +
          (tlsContext && !secure ? '250-STARTTLS\r\n' : '') +
          `250-8BITMIME\r\n250 SIZE ${MESSAGE_MAX}\r\n`);
        return;
      case 'HELO':
        resetTx();
        send(`250 ${HOST}`);
        return;
      case 'AUTH': {
        if (args.user === null) {
          send('503 5.5.1 AUTH not offered');
          return;
        }
        if (st.authed) {
          send('503 5.5.1 Already authenticated');
          return;
        }
        const [mech, initial] = arg.split(' ');
        if (mech.toUpperCase() === 'PLAIN') {
          if (initial) {
            plain(initial);
          } else {
            mode = 'auth-plain';
            send('334 ');
          }
        } else if (mech.toUpperCase() === 'LOGIN') {
          if (initial) {
            loginUser = Buffer.from(initial, 'base64').toString('utf8');
            mode = 'auth-login-pass';
            send('334 UGFzc3dvcmQ6');
          } else {
            mode = 'auth-login-user';
            send('334 VXNlcm5hbWU6');
          }
        } else {
          send('504 5.5.4 Unrecognized authentication type');
        }
        return;
      }
      case 'MAIL': {
        if (args.user !== null && !st.authed) {
          send('530 5.7.0 Authentication required');
          return;
        }
        const from = angle(arg, 'FROM');
        if (from === null) {
          send('501 5.5.4 Syntax: MAIL FROM:<address>');
          return;
        }
        st.from = from;
        st.to = [];
        send('250 2.1.0 Ok');
        return;
      }
      case 'RCPT': {
        const to = angle(arg, 'TO');
        if (st.from === null) {
          send('503 5.5.1 Need MAIL first');
          return;
        }
        if (to === null) {
          send('501 5.5.4 Syntax: RCPT TO:<address>');
          return;
        }
        const code = args.reply.get(to.toLowerCase());
        if (code) {
          send(`${code} ${TEXTS[code] || (code >= 500 ? '5.0.0 Refused' : '4.0.0 Deferred')}`);
          return;
        }
        st.to.push(to);
        send('250 2.1.5 Ok');
        return;
      }
      case 'DATA':
        if (st.to.length === 0) {
          send('503 5.5.1 Need RCPT first');
          return;
        }
        mode = 'data';
        data = [];
        dataBytes = 0;
        unstuffed = 0;
        send('354 End data with <CR><LF>.<CR><LF>');
        return;
      case 'STARTTLS': {
        if (!tlsContext || secure) {
          send('502 5.5.1 STARTTLS not offered');
          return;
        }
        send('220 2.0.0 Ready to start TLS');
        // RFC 3207 4.2: everything known before is forgotten
        sock.removeAllListeners('data');
        const t = new tls.TLSSocket(sock, { isServer: true, secureContext: tlsContext });
        t.on('secure', () => {});
        session(t, true);
        return;
      }
      case 'RSET':
        resetTx();
        send('250 2.0.0 Ok');
        return;
      case 'NOOP':
        send('250 2.0.0 Ok');
        return;
      case 'QUIT':
        send('221 2.0.0 Bye');
        sock.end();
        return;
      default:
        send('502 5.5.2 Command not recognized');
    }
  }

  function line(l) {
    // l: one line without its CRLF
    switch (mode) {
      case 'data':
        if (l === '.') {
          endData();
          return;
        }
        if (l.startsWith('.')) {
          l = l.slice(1);
          unstuffed++;
        }
        dataBytes += l.length + 2;
        if (dataBytes <= MESSAGE_MAX) {
          data.push(l + '\r\n');
        }
        return;
      case 'auth-plain':
        mode = 'cmd';
        plain(l);
        return;
      case 'auth-login-user':
        loginUser = Buffer.from(l, 'base64').toString('utf8');
        mode = 'auth-login-pass';
        send('334 UGFzc3dvcmQ6');
        return;
      case 'auth-login-pass':
        mode = 'cmd';
        checkAuth('LOGIN', loginUser, Buffer.from(l, 'base64').toString('utf8'));
        return;
      default:
        command(l);
    }
  }

  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const i = buf.indexOf('\r\n');
      if (i < 0) {
        if (buf.length > (mode === 'data' ? MESSAGE_MAX : LINE_MAX)) {
          send('500 5.5.6 Line too long');
          sock.destroy();
        }
        return;
      }
      const l = buf.slice(0, i).toString('latin1');
      buf = buf.slice(i + 2);
      // the data is kept as bytes (latin1 keeps every byte as it came)
      line(l);
    }
  });
  sock.on('error', () => {});
}

const onConnection = (sock) => {
  session(sock, args.implicitTls);
  sock.write(`220 ${HOST} ESMTP paywire test sink\r\n`);
};
const server = args.implicitTls
  ? tls.createServer({ cert: fs.readFileSync(args.tlsCert), key: fs.readFileSync(args.tlsKey) },
    onConnection)
  : net.createServer(onConnection);
server.on('tlsClientError', () => {});

server.listen(args.port, '127.0.0.1', () => {
  const tmp = args.portFile + '.tmp';
  fs.writeFileSync(tmp, String(server.address().port));
  fs.renameSync(tmp, args.portFile);
});
process.on('SIGTERM', () => process.exit(0));
