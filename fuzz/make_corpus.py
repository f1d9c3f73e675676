#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Seeds come from tests/fixtures (the providers' payload shapes, signed here
with the fixtures' secrets as tests/integration/lib.sh configures them, so
the verify target reaches its success path) and from bad-input cases of the
unit tests (server_wire_test, bridge_amount_test, bridge_route_test, ...).
Run it once after a fixture changes; the seeds are committed. Needs protoc
(Debian protobuf-compiler) for the RPC frames. Crash inputs found later are
added to the same folders by hand, named regress-<what>.
"""
import base64, hashlib, hmac, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(ROOT, "fuzz", "corpus")
NOW = 1767225600
STRIPE = b"whsec_test_paywire_fixture_secret"
RZP = b"rzp_webhook_fixture_secret"
STD = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
PROV = {"stripe": 0, "razorpay": 1, "onecom": 2, "web3": 3}


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def wh_request(provider, body, headers):
    hdr = b"".join(k.encode() + b": " + v.encode() + b"\n" for k, v in headers)
    return bytes([PROV[provider]]) + hdr + b"\n" + body


def signed(provider, body, ts=NOW):
    if provider == "stripe":
        mac = hmac.new(STRIPE, str(ts).encode() + b"." + body, hashlib.sha256).hexdigest()
        return [("stripe-signature", "t=%d,v1=%s,v0=%s" % (ts, mac, "00" * 32))]
    if provider == "razorpay":
        mac = hmac.new(RZP, body, hashlib.sha256).hexdigest()
        return [("x-razorpay-signature", mac), ("x-razorpay-event-id", "evt_rzp_1")]
    mac = hmac.new(STD, b"msg_1." + str(ts).encode() + b"." + body, hashlib.sha256).digest()
    return [("webhook-id", "msg_1"), ("webhook-timestamp", str(ts)),
            ("webhook-signature", "v1," + base64.b64encode(mac).decode() + " v2,AAAA")]


def webhooks():
    for fn in sorted(os.listdir(FIX)):
        if not fn.endswith(".json"):
            continue
        provider = fn.split(".")[0]
        body = open(os.path.join(FIX, fn), "rb").read().strip()
        base = fn[:-5]
        for target in ("fuzz_wh_verify", "fuzz_wh_parse"):
            put(target, base, wh_request(provider, body, signed(provider, body)))
        # bad cases of server_webhook_verify_test: stale, tampered, repeated header
        put("fuzz_wh_verify", base + ".stale", wh_request(provider, body, signed(provider, body, NOW - 301)))
        put("fuzz_wh_verify", base + ".tampered", wh_request(provider, body + b" ", signed(provider, body)))
        put("fuzz_wh_verify", base + ".twice", wh_request(provider, body, signed(provider, body) * 2))
    bad = [b"", b"[]", b"null", b"{", b'{"a":1,"a":2}', b'{"id":"\\u0000"}', b"[" * 300,
           b'{"type":"payment_intent.succeeded","data":{"object":{"amount":1e3}}}',
           b'{"event":"payment.completed","amount":"49.001","currency":"EUR"}',
           b'{"event":"payment.completed","amount":-1,"currency":"eur"}',
           b'{"event":"transfer.confirmed","amount":49.00,"currency":"JPY","confirmations":"12"}']
    for i, b in enumerate(bad):
        for p in PROV:
            put("fuzz_wh_parse", "bad-%d-%s" % (i, p), wh_request(p, b, signed(p, b)))


def protoc_encode(text):
    proto = os.path.join(ROOT, "proto")
    return subprocess.run(["protoc", "-I", proto, "--encode=paywire.v1.Request",
                           "paywire/v1/paywire.proto"], input=text.encode(),
                          capture_output=True, check=True).stdout


def rpc():
    admin = "adm_test_0123456789abcdef0123456789"
    frames = {
        "create_merchant": 'request_id: "r1" api_key: "%s" create_merchant { name: "Acme" mode: MODE_TEST }' % admin,
        "create_session": 'request_id: "r2" api_key: "pk_test_x" create_session { amount_minor: 4900 currency: "EUR" mode: MODE_TEST success_url: "https://a.example/ok" customer_email: "a@b.example" metadata { key: "k" value: "v" } fulfillment { kind: 1 plan: "pro" } }',
        "get_status": 'request_id: "r3" get_status { session_id: "ps_2f6c1e9a4b7d" }',
        "ingest": 'request_id: "r4" ingest_webhook { provider: 1 headers { key: "stripe-signature" value: "t=1,v1=00" } body: "{}" }',
        "revoke": 'request_id: "r5" api_key: "pk_test_x" revoke_api_key { api_key: "pk_test_y" }',
        "verify_audit": 'request_id: "r6" api_key: "%s" verify_audit { }' % admin,
        "redeem": 'request_id: "r7" redeem_access { session_id: "ps_1" token: "a.b.c" }',
    }
    for name, text in frames.items():
        put("fuzz_rpc", name, protoc_encode(text))
    # bad frames of server_wire_test: empty, unknown field, field 0, wrong wire
    # type, NUL in a string, truncated varint, two oneof members
    for name, data in {"empty": b"", "unknown": b"\xf8\x01\x01", "field0": b"\x00\x01",
                       "wiretype": b"\x0d\x00\x00\x00\x00", "nul": b"\x0a\x03a\x00b",
                       "trunc": b"\x18\xff\xff", "twoof": b"\x62\x00\x7a\x00",
                       "group": b"\x0b\x0c"}.items():
        put("fuzz_rpc", "bad-" + name, data)


def bridge():
    routes = ["POST /create_session", "GET /checkout", "POST /webhooks/stripe", "POST /webhooks/nope",
              "GET /session/ps_2f6c1e9a4b7d/status", "GET /session//status", "GET /session/a%2Fb/status",
              "GET /access/ps_2f6c1e9a4b7d", "GET /healthz", "GET /metrics", "DELETE /healthz",
              "GET /session/" + "a" * 200 + "/status", "GET //healthz", "HEAD /checkout"]
    for i, r in enumerate(routes):
        put("fuzz_bridge", "route-%d" % i, b"\x00" + r.encode())
    bodies = [b'{"amount":"49.00","currency":"EUR","mode":"test"}',
              b'{"amount_minor":4900,"currency":"eur","mode":"live","metadata":{"a":"b"},"plan":"pro"}',
              b'{"amount":49.5,"currency":"JPY","mode":"test","idempotency_key":"k1"}\x00hdr-key',
              b'{"amount":"1e3","currency":"EUR","mode":"test"}', b'{"amount":"-1","currency":"EUR"}',
              b'{"amount":"49.00","amount_minor":4900,"currency":"EUR","mode":"test"}',
              b'{"currency":"EUR","mode":"test","credits":10,"amount":"1"}', b'{"x":1}', b'[]']
    for i, b in enumerate(bodies):
        put("fuzz_bridge", "create-%d" % i, b"\x01" + b)
    put("fuzz_bridge", "member-0", b"\x02amount\x00" + b'{"a":{"amount":1},"amount":"2"}')
    put("fuzz_bridge", "member-1", b"\x02\x61mount\x00" + b'{"\\u0061mount":12.5}')


def amount():
    cases = [(2, "49.00"), (2, "49"), (0, "4900"), (3, "1.234"), (2, "49.001"), (2, "0.00"),
             (2, "1e3"), (2, "-1"), (2, "+1"), (2, " 1"), (2, "1."), (2, ".5"), (4, "99999999.9999"),
             (2, "10000000000.00"), (2, "10000000000.01"), (0, "1000000000000"), (2, "0" * 40),
             (2, '"49.00"'), (2, "1.2.3"), (2, "18446744073709551616")]
    for i, (e, t) in enumerate(cases):
        put("fuzz_amount", "case-%d" % i, bytes([e]) + t.encode())


def fsm():
    # even byte 0: alphabet sequences (model_check names by index); odd: raw events
    for i, seq in enumerate([[1, 4, 6, 7, 16, 18], [6, 22, 23, 17], [14, 6, 16], [3, 8, 6, 9],
                             [5, 1, 3, 2, 4, 15], [17, 6], [16, 17, 6, 23, 22]]):
        put("fuzz_fsm", "seq-%d" % i, bytes([0] + seq))
    put("fuzz_fsm", "raw-0", bytes([1]) + bytes(range(64)))


if __name__ == "__main__":
    webhooks(); rpc(); bridge(); amount(); fsm()
    print("corpus written to", OUT)
