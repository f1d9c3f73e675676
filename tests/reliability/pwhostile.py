"""pwhostile.py - what the hostile-input and load runners share: real
paywire-server + paywire-bridge processes on loopback, a raw nng REQ client
(SP over TCP, written out so a test can also send what no nng client would),
a small protobuf writer/reader, webhook signers for every provider, raw HTTP,
LMDB's last transaction id, and /proc figures.

Every wait is bounded by HANG_S, which only a hang reaches; nothing asserts a
duration. Processes started here are stopped by PID (Procs.stop_all).
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

SRC_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

HANG_S = 120

ADMIN_KEY = "adm_hostile_" + os.urandom(16).hex()
SECRETS = {
    "PAYWIRE_STRIPE_WEBHOOK_SECRET": "whsec_test_paywire_fixture_secret",
    "PAYWIRE_RAZORPAY_WEBHOOK_SECRET": "rzp_webhook_fixture_secret",
    "PAYWIRE_ONECOM_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "PAYWIRE_WEB3_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "PAYWIRE_TOKEN_SECRET": "hostile-token-secret-0123456789abcdef0123",
    "PAYWIRE_ADMIN_KEY": ADMIN_KEY,
}
# A Stripe secret that was rotated out: signatures made with it must fail.
RETIRED_STRIPE_SECRET = "whsec_retired_paywire_secret_0123"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(fn, what):
    end = time.monotonic() + HANG_S
    while True:
        try:
            if fn():
                return
        except OSError:
            pass
        if time.monotonic() > end:
            raise RuntimeError("hang: %s not within %d s" % (what, HANG_S))
        time.sleep(0.1)


# ---------------------------------------------------------------------------
# protobuf: a writer driven by a small text form, and a reader

def varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_key(field, wt):
    return varint((field << 3) | wt)


def pb_len(field, data):
    return pb_key(field, 2) + varint(len(data)) + data


def pb_str(field, s):
    return pb_len(field, s.encode() if isinstance(s, str) else s)


def pb_var(field, n):
    return pb_key(field, 0) + varint(n)


def pb_read(buf):
    """{field: [values]}: varints as int, LEN as bytes; raises ValueError."""
    out, i = {}, 0
    while i < len(buf):
        key, i = _rd_varint(buf, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _rd_varint(buf, i)
        elif wt == 2:
            n, i = _rd_varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(field, []).append(v)
    return out


def _rd_varint(buf, i):
    n, shift = 0, 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


_TOK = re.compile(r'\s*(?:(\d+):(v-?\d+|s"(?:[^"\\]|\\.)*"|x[0-9a-fA-F]*|\{|w\d+:x[0-9a-fA-F]*)'
                  r'|raw:x([0-9a-fA-F]*)|(\})(?:\*(\d+))?|(\*\d+))')


def pb_text(text, subst=None):
    """Encodes the catalogue's frame text. Items, space separated:
         N:v123        varint field N      N:s"text"   string (JSON escapes)
         N:x00ff       bytes field N       N:{ ... }   nested message
         N:w5:x0102    key with wire type 5 and the raw bytes that follow
         raw:x0102     literal bytes       ... }*K     repeat the nested item K
                                                        times ({i} = 0..K-1)
       $NAME in strings is replaced from subst."""
    subst = subst or {}
    pos, stack = 0, [[bytearray(), None, None]]  # [buf, field, start_text]
    while pos < len(text):
        m = _TOK.match(text, pos)
        if m is None:
            if text[pos:].strip() == "":
                break
            raise ValueError("frame text at %r" % text[pos:pos + 20])
        pos = m.end()
        if m.group(1):
            field, val = int(m.group(1)), m.group(2)
            if val == "{":
                stack.append([bytearray(), field, pos])
                continue
            stack[-1][0] += _pb_item(field, val, subst)
        elif m.group(3) is not None:
            stack[-1][0] += bytes.fromhex(m.group(3))
        elif m.group(4):
            body, field, start = stack.pop()
            reps = int(m.group(5) or 1)
            inner = text[start:m.start()]
            for i in range(reps):
                data = body if reps == 1 else pb_text(inner.replace("{i}", str(i)), subst)
                stack[-1][0] += pb_len(field, bytes(data))
    if len(stack) != 1:
        raise ValueError("unbalanced braces in frame text")
    return bytes(stack[0][0])


def _pb_item(field, val, subst):
    if val.startswith("v"):
        return pb_var(field, int(val[1:]))
    if val.startswith("s"):
        s = json.loads(val[1:])
        for k, v in subst.items():
            s = s.replace("$" + k, v)
        return pb_str(field, s.encode("utf-8", "surrogatepass"))
    if val.startswith("x"):
        return pb_len(field, bytes.fromhex(val[1:]))
    wt, raw = val[1:].split(":x")
    return pb_key(field, int(wt)) + bytes.fromhex(raw)


# ---------------------------------------------------------------------------
# nng REQ over TCP, by hand (nng's SP TCP transport: an 8-byte handshake
# "\0SP\0" + protocol id + 2 reserved bytes; then each message is a 64-bit
# big-endian length and the bytes; a REQ message starts with a 32-bit request
# id whose top bit is set, and the REP answer echoes it).

NNG_REQ, NNG_REP = 0x30, 0x31


class Rpc:
    def __init__(self, port, proto=NNG_REQ, handshake=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=HANG_S)
        self.s.settimeout(HANG_S)
        self.rid = 0x80000000 | (int.from_bytes(os.urandom(3), "big"))
        hs = handshake if handshake is not None else b"\0SP\0" + struct.pack(">H", proto) + b"\0\0"
        self.s.sendall(hs)
        self.peer = self._recvn(8)

    def _recvn(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed after %d of %d bytes" % (len(buf), n))
            buf += chunk
        return bytes(buf)

    def send_raw(self, data):
        self.s.sendall(data)

    def call(self, body):
        self.rid = (self.rid + 1) | 0x80000000
        self.s.sendall(struct.pack(">Q", 4 + len(body)) + struct.pack(">I", self.rid) + body)
        n = struct.unpack(">Q", self._recvn(8))[0]
        msg = self._recvn(n)
        return msg[4:]

    def closed_by_peer(self):
        """True when the server closes the connection (EOF/reset) within HANG_S."""
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except (ConnectionError, socket.timeout, OSError) as e:
            return not isinstance(e, socket.timeout)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def resp_status(resp):
    """(code, message) of a serialized Response."""
    f = pb_read(resp)
    st = pb_read(f[2][0]) if 2 in f else {}
    code = st.get(1, [0])[0]
    msg = st.get(2, [b""])[0].decode(errors="replace")
    return code, msg, f


def rid():
    return "rq_" + os.urandom(12).hex()


# ---------------------------------------------------------------------------
# webhook signatures, as each provider makes them (DESIGN.md table)

def sign_stripe(body, secret, t):
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"stripe-signature": "t=%d,v1=%s" % (t, mac)}


def sign_razorpay(body, secret, event_id):
    return {"x-razorpay-signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "x-razorpay-event-id": event_id}


def sign_standard(body, secret, msg_id, t):
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, ("%s.%d." % (msg_id, t)).encode() + body, hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": str(t),
            "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def sign(provider, body, event_id, t=None, secret=None):
    t = int(time.time()) if t is None else t
    if provider == "stripe":
        return sign_stripe(body, secret or SECRETS["PAYWIRE_STRIPE_WEBHOOK_SECRET"], t)
    if provider == "razorpay":
        return sign_razorpay(body, secret or SECRETS["PAYWIRE_RAZORPAY_WEBHOOK_SECRET"], event_id)
    var = "PAYWIRE_%s_WEBHOOK_SECRET" % provider.upper()
    return sign_standard(body, secret or SECRETS[var], event_id, t)


# ---------------------------------------------------------------------------
# raw HTTP

def http_raw(port, data, read_all=True, trickle_s=0.0):
    """Sends data; returns (list of status codes seen, raw bytes read). An
    empty list: the bridge closed without an answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=HANG_S)
    s.settimeout(HANG_S)
    try:
        if trickle_s > 0:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(trickle_s)
        else:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
        got = bytearray()
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
                if not read_all and b"\r\n\r\n" in got:
                    break
        except ConnectionResetError:
            pass
    finally:
        s.close()
    return http_statuses(bytes(got)), bytes(got)


def http_statuses(got):
    """The status of each response in got, in order, walking Content-Length:
    libmicrohttpd 0.9.75 writes the status line and headers of its own error
    answers twice (inside the declared body), which counts as one answer."""
    codes, pos = [], 0
    while got.startswith(b"HTTP/1.", pos):
        m = re.match(rb"HTTP/1\.[01] (\d{3})", got[pos:])
        end = got.find(b"\r\n\r\n", pos)
        if m is None or end < 0:
            break
        codes.append(int(m.group(1)))
        cl = re.search(rb"(?im)^content-length:\s*(\d+)", got[pos:end + 2])
        pos = end + 4 + (int(cl.group(1)) if cl else 0)
    return codes


def http_request(port, method, path, body=b"", headers=None, close=True):
    h = {"Host": "127.0.0.1:%d" % port}
    if body or method == "POST":
        h["Content-Length"] = str(len(body))
        h.setdefault("Content-Type", "application/json")
    h.update(headers or {})
    if close:
        h["Connection"] = "close"
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in h.items())
    return head.encode() + b"\r\n" + body


# ---------------------------------------------------------------------------
# processes

class Procs:
    def __init__(self, bin_dir, keep=False, pg=False):
        self.bin_dir = bin_dir
        self.dir = tempfile.mkdtemp(prefix="pw-hostile.")
        self.keep = keep
        self.pids = []
        # pg: the server runs on the PostgreSQL engine, on a private cluster
        # (tests/pg/cluster.sh) in this run's directory
        self.pgd = None
        self.store_url = None
        if pg:
            self.pgd = tempfile.mkdtemp(prefix="pw-hostile-pg.")  # in /tmp: postgres reaches it
            subprocess.run(["bash", os.path.join(SRC_DIR, "tests", "pg", "cluster.sh"), "start",
                            self.pgd], check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["psql", "-qX", "host=%s user=postgres dbname=postgres" % self.pgd,
                            "-c", "CREATE DATABASE paywire"], check=True)
            self.store_url = "host=%s user=postgres dbname=paywire" % self.pgd
        self.env = dict(os.environ, **SECRETS)
        self.env.pop("PAYWIRE_CRASHPOINT", None)

    def start_server(self, *extra, name="server"):
        self.data = os.path.join(self.dir, name + "-data")
        self.rpc_port = free_port()
        self.server_url = "tcp://127.0.0.1:%d" % self.rpc_port
        self.server_log = open(os.path.join(self.dir, name + ".log"), "ab")
        p = subprocess.Popen([os.path.join(self.bin_dir, "server", "paywire-server"),
                              "--data", self.data, "--listen", self.server_url,
                              "--log-level", os.environ.get("PW_LOG", "warn")] +
                             (["--store", self.store_url] if self.store_url else []) + list(extra),
                             env=self.env, stdout=self.server_log, stderr=subprocess.STDOUT)
        self.server = p
        self.pids.append(p)
        wait_until(lambda: self._server_answers(p), "server answers")
        return p

    def _server_answers(self, p):
        if p.poll() is not None:
            raise RuntimeError("server exited during start: %s" % self.log_tail("server"))
        r = Rpc(self.rpc_port)
        try:
            code, _, _ = resp_status(r.call(pb_str(1, rid()) + pb_len(12, pb_str(1, "cs_probe"))))
        finally:
            r.close()
        return code == 5

    def start_bridge(self, *extra):
        self.http_port = free_port()
        self.bridge_log = open(os.path.join(self.dir, "bridge.log"), "ab")
        p = subprocess.Popen([os.path.join(self.bin_dir, "bridge", "paywire-bridge"),
                              "--listen", "127.0.0.1:%d" % self.http_port,
                              "--server", self.server_url,
                              "--public-url", "http://127.0.0.1:%d" % self.http_port,
                              "--server-timeout-ms", str(HANG_S * 1000),
                              "--log-level", os.environ.get("PW_LOG", "warn"),
                              # every load here comes from one address (loopback): the
                              # per-address limits would measure themselves
                              "--ip-rate-public", "0", "--ip-rate-webhooks", "0"] + list(extra),
                             env=self.env, stdout=self.bridge_log, stderr=subprocess.STDOUT)
        self.bridge = p
        self.pids.append(p)

        def healthy():
            if p.poll() is not None:
                raise RuntimeError("bridge exited during start: %s" % self.log_tail("bridge"))
            codes, _ = http_raw(self.http_port, http_request(self.http_port, "GET", "/healthz"))
            return codes == [200]
        wait_until(healthy, "bridge /healthz 200")
        return p

    def log_tail(self, name, n=2000):
        try:
            with open(os.path.join(self.dir, name + ".log"), "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def last_txnid(self):
        """The engine's last committed write: LMDB's last transaction id, or
        the PostgreSQL engine's commits sequence (docs/POSTGRES.md)."""
        if self.store_url:
            out = subprocess.run(["psql", "-qXAt", self.store_url, "-c",
                                  "SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
                                  "FROM paywire.commits"],
                                 capture_output=True, text=True, check=True).stdout
            return int(out.strip())
        out = subprocess.run(["mdb_stat", "-e", self.data], capture_output=True, text=True,
                             check=True).stdout
        return int(re.search(r"Last transaction ID: (\d+)", out).group(1))

    def stop_all(self):
        for p in self.pids:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.pids:
            try:
                p.wait(timeout=HANG_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.pgd:
            subprocess.run(["bash", os.path.join(SRC_DIR, "tests", "pg", "cluster.sh"), "stop",
                            self.pgd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- admin and merchant calls over the raw client ---

    def call(self, body):
        r = Rpc(self.rpc_port)
        try:
            return resp_status(r.call(body))
        finally:
            r.close()

    def create_merchant(self, mode=1):
        code, msg, f = self.call(pb_str(1, rid()) + pb_str(2, ADMIN_KEY) +
                                 pb_len(10, pb_str(1, "hostile shop") + pb_var(2, mode)))
        if code != 0:
            raise RuntimeError("create_merchant: %d %s" % (code, msg))
        m = pb_read(f[10][0])
        return m[1][0].decode(), m[2][0].decode()

    def create_session(self, api_key, amount=4900, currency="EUR", mode=1):
        cs = (pb_var(1, amount) + pb_str(2, currency) + pb_var(3, mode) +
              pb_str(4, "https://shop.example/ok") + pb_str(5, "https://shop.example/cancel"))
        code, msg, f = self.call(pb_str(1, rid()) + pb_str(2, api_key) + pb_len(11, cs))
        if code != 0:
            raise RuntimeError("create_session: %d %s" % (code, msg))
        sess = pb_read(pb_read(f[11][0])[1][0])
        return sess[1][0].decode()

    def session_status(self, sid):
        code, _, f = self.call(pb_str(1, rid()) + pb_len(12, pb_str(1, sid)))
        if code != 0:
            return None
        return pb_read(f[12][0]).get(2, [0])[0]


def proc_kib(pid, field):
    """VmRSS / VmSize ... of a process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)
