#!/usr/bin/env python3
"""profile_split.py - splits `perf script` samples of paywire-server (taken
with --call-graph dwarf by bench/profile.sh) into where a durable write's CPU
goes: each sample goes to the category of the innermost frame (from the leaf)
that names one; the last three (nng internals, the scheduler, allocation and copying) only
when no frame names another (so a malloc under protobuf unpack counts as
protobuf, a futex wait under the writer as a hand-off). Also lists the server's own
functions with the most samples under them (inclusive).

  perf script -F comm,tid,ip,sym,dso -i perf.data | profile_split.py
"""
import collections
import sys

# (category, markers matched as substrings of a frame's symbol or dso)
CATEGORIES = [
    ("commit: fdatasync (the disk)", ["fdatasync", "do_fsync"]),
    ("commit: LMDB writes its dirty pages (pwrite)", ["__libc_pwrite", "pwritev", "__x64_sys_pwrite"]),
    ("LMDB tree work (get/put/cursor, page copy)", ["liblmdb"]),
    ("stored reply: seal (secretbox) and its key (BLAKE2b)", ["crypto_secretbox", "srv_reply_seal", "xsalsa20", "poly1305"]),
    ("audit chain: record hash (BLAKE2b)", ["store_audit"]),
    ("request hash, key hashes (BLAKE2b)", ["crypto_generichash", "blake2b"]),
    ("protobuf decode (unpack)", ["__unpack", "protobuf_c_message_unpack"]),
    ("protobuf encode (pack, get_packed_size)", ["__pack", "protobuf_c_message_pack", "get_packed_size"]),
    ("validation", ["srv_validate"]),
    ("store domain code (records, indexes, kv layer)", ["store_", "kv_"]),
    ("server dispatch and reply building", ["srv_"]),
    ("transport: TCP send/receive (nng)", ["sendmsg", "recvmsg", "tcp_", "sock_", "epoll"]),
    ("thread hand-offs: futex waits/wakes, locks, scheduling", ["futex", "lll_lock", "pthread_cond", "pthread_mutex", "try_to_wake_up"]),
    ("nng internals", ["libnng"]),
    ("context switches (scheduler), not under any of the above", ["schedule", "finish_task_switch"]),
    ("malloc/free/memset/memcpy", ["malloc", "_int_free", "cfree", "calloc", "memset", "memmove", "memcpy"]),
]


def main():
    samples = []
    cur = None
    for line in sys.stdin:
        if not line.strip():
            if cur:
                samples.append(cur)
            cur = None
            continue
        if not line[0].isspace():
            cur = {"comm": line.split()[0], "stack": []}
            continue
        parts = line.strip().split(None, 1)
        rest = parts[1] if len(parts) > 1 else ""
        cur["stack"].append(rest)
    if cur:
        samples.append(cur)
    n = len(samples)
    if n == 0:
        print("no samples")
        return
    cats = collections.Counter()
    by_thread = collections.Counter()
    own = collections.Counter()
    for s in samples:
        frames = s["stack"]
        by_thread[s["comm"]] += 1
        cat = None
        # innermost first: the first frame from the leaf that names a
        # category; allocation and copying only when nothing above does
        for f in frames:
            for name, markers in CATEGORIES[:-3]:
                if any(m in f for m in markers):
                    cat = name
                    break
            if cat:
                break
        for name, markers in CATEGORIES[-3:]:
            if cat is None and any(m in f for f in frames for m in markers):
                cat = name
        cat = cat or "other (kernel, libc, unresolved)"
        cats[cat] += 1
        seen = set()
        for f in frames:
            if "paywire-server" in f and "[unknown]" not in f:
                sym = f.split(" (")[0]
                if sym not in seen:
                    seen.add(sym)
                    own[sym] += 1
    print("%d samples of paywire-server (all threads)" % n)
    print("\nthreads:")
    for k, v in by_thread.most_common():
        print("  %-20s %5.1f%%" % (k, 100.0 * v / n))
    print("\nwhere the CPU goes (each sample once, first matching category):")
    for k, v in cats.most_common():
        print("  %-58s %5.1f%%" % (k, 100.0 * v / n))
    print("\nthe server's own functions, inclusive (a sample counts for every one on its stack):")
    for k, v in own.most_common(30):
        print("  %-58s %5.1f%%" % (k, 100.0 * v / n))


if __name__ == "__main__":
    main()
