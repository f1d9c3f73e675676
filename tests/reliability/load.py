#!/usr/bin/env python3
"""load.py - hostile load against a real paywire-server + paywire-bridge.

  bigmsg     16 nng peers each announce a 1 GiB message (the 64-bit length of
             nng's TCP framing) and send a little of it: the server drops each
             connection (NNG_OPT_RECVMAXSZ) and its virtual memory grows by less
             than 64 MiB (VmPeak after - VmSize before); it still answers.
  slowloris  N connections to the bridge, each sending a header line every few
             seconds and never finishing, for T seconds; meanwhile legitimate
             GET /session/<id>/status requests, one at a time: every one must be
             answered 200 with the right session, the bridge's RSS stays under
             64 MiB. Their latency p50/p99 is measured and reported, never
             asserted (a figure of this machine, not a property of the code).
  mixed      W worker threads for D seconds: create_session (RPC), get_status
             (RPC), a signed One.com payment for a new session through the
             bridge (a write with invoice + entitlement + audit), the status page
             through the bridge. Every answer must be the right one. RSS of the
             server and bridge is sampled each second; after the warm-up (the
             first fifth), the anonymous RSS (RssAnon: heap, not LMDB's file
             pages, which grow with the data by design) must drift < 5%.

usage: load.py BIN_DIR [--ci | --full] [--only bigmsg,slowloris,mixed]
  --ci    (default with CI=true) slowloris 200 connections x 20 s, mixed 60 s
  --full  slowloris 1000 connections x 120 s, mixed 600 s
Exit 0 when every assertion holds; the last line is a summary with figures.
"""
import json
import os
import resource
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pwhostile as H  # noqa: E402

MIB = 1024 * 1024


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


# ---------------------------------------------------------------------------

def closed_count(socks, bound_s=H.HANG_S):
    """How many of socks the peer closes (EOF or reset), waiting at most
    bound_s in all (a hang bound: a server that keeps them open fails)."""
    pending, closed = set(socks), 0
    end = time.monotonic() + bound_s
    while pending and time.monotonic() < end:
        ready, _, _ = select.select(list(pending), [], [], 1.0)
        for s in ready:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                pending.discard(s)
                closed += 1
    return closed


def bigmsg(procs, peers=16, announce=1 << 30):
    pid = procs.server.pid
    size0 = H.proc_kib(pid, "VmSize")
    peak0 = H.proc_kib(pid, "VmPeak")
    socks = []
    for _ in range(peers):
        r = H.Rpc(procs.rpc_port)
        # the length, the REQ header, then 64 KiB of the "message"
        r.send_raw(struct.pack(">Q", announce) + b"\x80\x00\x00\x01")
        try:
            r.send_raw(b"\0" * 65536)
        except OSError:
            pass
        socks.append(r)
    dropped = closed_count([r.s for r in socks])
    for r in socks:
        r.close()
    peak1 = H.proc_kib(pid, "VmPeak")
    size1 = H.proc_kib(pid, "VmSize")
    growth_kib = max(peak1, size1) - max(size0, peak0 if peak0 > size0 else size0)
    growth_kib = max(0, max(peak1 - peak0, size1 - size0))
    alive = procs.server.poll() is None and procs._server_answers(procs.server)
    ok = dropped == peers and growth_kib < 64 * 1024 and alive
    print("%s - bigmsg: %d peers announced %d MiB each, %d dropped, server VM grew %.1f MiB "
          "(limit 64), still answering: %s" % ("ok" if ok else "not ok", peers, announce // MIB,
                                                dropped, growth_kib / 1024.0, alive))
    return ok, {"bigmsg_vm_growth_mib": round(growth_kib / 1024.0, 1), "bigmsg_dropped": dropped}


# ---------------------------------------------------------------------------

def slowloris(procs, sid, conns, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < conns + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, conns + 512), hard))
    bpid = procs.bridge.pid
    socks = []
    opened_fail = 0
    for i in range(conns):
        try:
            s = socket.create_connection(("127.0.0.1", procs.http_port), timeout=H.HANG_S)
            s.setblocking(False)
            s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            opened_fail += 1
    stop = time.monotonic() + seconds
    lat, bad, rss_max = [], 0, 0
    next_drip = time.monotonic() + 5
    closed_by_bridge = 0
    while time.monotonic() < stop:
        t0 = time.monotonic()
        codes, raw = H.http_raw(procs.http_port, H.http_request(
            procs.http_port, "GET", "/session/%s/status" % sid))
        lat.append((time.monotonic() - t0) * 1000.0)
        if codes != [200] or sid.encode() not in raw:
            bad += 1
        rss_max = max(rss_max, H.proc_kib(bpid, "VmRSS"))
        if time.monotonic() >= next_drip:
            # one more header line on every slow connection: never idle, never done
            alive = []
            for s in socks:
                try:
                    s.send(b"X-Slow: %d\r\n" % int(time.monotonic()))
                    alive.append(s)
                except (BlockingIOError, InterruptedError):
                    alive.append(s)
                except OSError:
                    closed_by_bridge += 1
                    s.close()
            socks = alive
            next_drip = time.monotonic() + 5
    for s in socks:
        s.close()
    alive = procs.bridge.poll() is None
    ok = bad == 0 and rss_max < 64 * 1024 and alive and len(lat) > 0
    figures = {"slowloris_conns": conns - opened_fail, "slowloris_s": seconds,
               "slowloris_closed_by_bridge": closed_by_bridge,
               "legit_requests": len(lat), "legit_bad": bad,
               "legit_p50_ms": round(pct(lat, 50), 1), "legit_p99_ms": round(pct(lat, 99), 1),
               "legit_max_ms": round(max(lat) if lat else 0, 1),
               "bridge_rss_max_mib": round(rss_max / 1024.0, 1)}
    print("%s - slowloris: %d slow connections for %d s (%d closed by the bridge); %d legitimate "
          "requests, %d wrong; p50 %.1f ms, p99 %.1f ms, max %.1f ms (figures, not asserted); "
          "bridge RSS max %.1f MiB (limit 64)"
          % ("ok" if ok else "not ok", conns - opened_fail, seconds, closed_by_bridge, len(lat),
             bad, figures["legit_p50_ms"], figures["legit_p99_ms"], figures["legit_max_ms"],
             rss_max / 1024.0))
    return ok, figures


# ---------------------------------------------------------------------------

class Mixed:
    def __init__(self, procs, key, seconds, workers=4):
        self.p, self.key, self.seconds, self.workers = procs, key, seconds, workers
        self.lock = threading.Lock()
        self.counts = {"create": 0, "status": 0, "webhook": 0, "page": 0}
        self.errors = []

    def err(self, what):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(what)
            else:
                self.errors[-1] = "... and more"

    def one_round(self, rpc, i):
        # create_session over RPC
        cs = (H.pb_var(1, 1000 + i % 5000) + H.pb_str(2, "EUR") + H.pb_var(3, 1) +
              H.pb_str(4, "https://shop.example/ok") + H.pb_str(5, "https://shop.example/no"))
        code, msg, f = H.resp_status(rpc.call(H.pb_str(1, H.rid()) + H.pb_str(2, self.key) +
                                              H.pb_len(11, cs)))
        if code != 0:
            return self.err("create_session: %d %s" % (code, msg))
        sid = H.pb_read(H.pb_read(f[11][0])[1][0])[1][0].decode()
        amount = 1000 + i % 5000
        code, msg, f = H.resp_status(rpc.call(H.pb_str(1, H.rid()) + H.pb_len(12, H.pb_str(1, sid))))
        if code != 0 or H.pb_read(f[12][0]).get(2, [0])[0] != 1:
            return self.err("get_status after create: %d %s" % (code, msg))
        evid = "ev" + os.urandom(8).hex()
        body = json.dumps({"event": "payment.completed", "reference": sid,
                           "amount": "%d.%02d" % (amount // 100, amount % 100), "currency": "EUR",
                           "payload": {"txn_id": "op_" + evid, "status": "completed"}}).encode()
        codes, raw = H.http_raw(self.p.http_port, H.http_request(
            self.p.http_port, "POST", "/webhooks/onecom", body,
            H.sign("onecom", body, "msg_" + evid)))
        if codes != [200] or b"APPLIED" not in raw.upper():
            return self.err("webhook: %s %s" % (codes, raw[-200:]))
        codes, raw = H.http_raw(self.p.http_port, H.http_request(
            self.p.http_port, "GET", "/session/%s/status" % sid))
        if codes != [200] or b'"paid"' not in raw:
            return self.err("status page after payment: %s %s" % (codes, raw[-200:]))
        with self.lock:
            for k in self.counts:
                self.counts[k] += 1

    def worker(self, n, stop):
        rpc = H.Rpc(self.p.rpc_port)
        i = n
        try:
            while time.monotonic() < stop and not self.errors:
                self.one_round(rpc, i)
                i += self.workers
        except Exception as e:  # noqa: BLE001 - any failure of a round is reported
            self.err("worker %d: %r" % (n, e))
        finally:
            rpc.close()

    def run(self):
        stop = time.monotonic() + self.seconds
        warm_end = time.monotonic() + self.seconds / 5.0
        threads = [threading.Thread(target=self.worker, args=(n, stop)) for n in range(self.workers)]
        for t in threads:
            t.start()
        samples = []  # (t, server anon, bridge anon, server rss, bridge rss)
        while any(t.is_alive() for t in threads):
            try:
                samples.append((time.monotonic(),
                                H.proc_kib(self.p.server.pid, "RssAnon"),
                                H.proc_kib(self.p.bridge.pid, "RssAnon"),
                                H.proc_kib(self.p.server.pid, "VmRSS"),
                                H.proc_kib(self.p.bridge.pid, "VmRSS")))
            except (OSError, KeyError):
                self.err("a process is gone")
                break
            time.sleep(1)
        for t in threads:
            t.join()
        after = [s for s in samples if s[0] >= warm_end]
        if len(after) < 2:
            after = samples[-2:]
        drift = {}
        for idx, name in ((1, "server"), (2, "bridge")):
            base, last = after[0][idx], after[-1][idx]
            drift[name] = (last - base) * 100.0 / base if base else 0.0
        # RssAnon is ~2 MiB here, counted in 4 KiB pages: 5% is ~25 pages, so a
        # growth under 512 KiB counts as noise (reported, not a failure); a
        # leak of one allocation per round (thousands of rounds) passes neither.
        grew = {idx: after[-1][idx] - after[0][idx] for idx in (1, 2)}
        ok = (not self.errors and self.counts["page"] > 0 and
              all(drift[n] < 5.0 or grew[i] < 512 for i, n in ((1, "server"), (2, "bridge"))))
        figures = {"mixed_s": self.seconds, "mixed_rounds": self.counts["page"],
                   "server_anon_drift_pct": round(drift["server"], 2),
                   "bridge_anon_drift_pct": round(drift["bridge"], 2),
                   "server_rss_end_mib": round(samples[-1][3] / 1024.0, 1),
                   "bridge_rss_end_mib": round(samples[-1][4] / 1024.0, 1),
                   "server_anon_mib": [round(after[0][1] / 1024.0, 1), round(after[-1][1] / 1024.0, 1)],
                   "bridge_anon_mib": [round(after[0][2] / 1024.0, 1), round(after[-1][2] / 1024.0, 1)]}
        print("%s - mixed: %d s, %d workers, %d rounds (create + status + signed payment + page), "
              "%.1f rounds/s; RssAnon after warm-up: server %.1f -> %.1f MiB (%+.2f%%), bridge "
              "%.1f -> %.1f MiB (%+.2f%%) (limit 5%%); VmRSS at end server %.1f, bridge %.1f MiB%s"
              % ("ok" if ok else "not ok", self.seconds, self.workers, self.counts["page"],
                 self.counts["page"] / float(self.seconds),
                 after[0][1] / 1024.0, after[-1][1] / 1024.0, drift["server"],
                 after[0][2] / 1024.0, after[-1][2] / 1024.0, drift["bridge"],
                 samples[-1][3] / 1024.0, samples[-1][4] / 1024.0,
                 "" if not self.errors else "; errors: " + " | ".join(self.errors)))
        return ok, figures


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    bin_dir = args[0]
    full = "--full" in args or ("--ci" not in args and os.environ.get("CI") != "true")
    only = {"bigmsg", "slowloris", "mixed"}
    if "--only" in args:
        only = set(args[args.index("--only") + 1].split(","))
    conns, slow_s, mixed_s = (1000, 120, 600) if full else (200, 20, 60)
    for a in args:
        if a.startswith("--conns="):
            conns = int(a.split("=", 1)[1])
        elif a.startswith("--slow-s="):
            slow_s = int(a.split("=", 1)[1])
        elif a.startswith("--mixed-s="):
            mixed_s = int(a.split("=", 1)[1])
    cache = os.path.join(bin_dir, "CMakeCache.txt")
    if os.path.exists(cache) and "PW_SANITIZE:BOOL=ON" in open(cache).read():
        # ASan's shadow memory and quarantine make every RSS figure meaningless
        raise SystemExit("load.py: %s is a sanitizer build; memory bounds need a plain build "
                         "(-DPW_SANITIZE=OFF, e.g. build-vg of scripts/reliability/valgrind.sh)"
                         % bin_dir)
    procs = H.Procs(bin_dir, keep="--keep" in args)
    results, figures = [], {"mode": "full" if full else "ci"}
    t0 = time.monotonic()
    try:
        procs.start_server()
        # the bridge accepts up to 1024 connections (PW_BRIDGE_CONNECTIONS_MAX)
        procs.start_bridge()
        _, key = procs.create_merchant()
        sid = procs.create_session(key)
        if "bigmsg" in only:
            ok, f = bigmsg(procs)
            results.append(ok)
            figures.update(f)
        if "slowloris" in only:
            ok, f = slowloris(procs, sid, conns, slow_s)
            results.append(ok)
            figures.update(f)
        if "mixed" in only:
            ok, f = Mixed(procs, key, mixed_s).run()
            results.append(ok)
            figures.update(f)
    finally:
        procs.stop_all()
    figures["took_s"] = round(time.monotonic() - t0)
    failed = results.count(False)
    print("load (%s): %d parts, %d failed; %s" % (figures["mode"], len(results), failed,
                                                  json.dumps(figures, sort_keys=True)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
