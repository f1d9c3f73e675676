#!/usr/bin/env python3
"""bench_smoke.py - CI's smoke of paywire-bench (ctest paywire.bench_smoke):
runs every phase and every workload briefly, and checks that each one ran
and did what it claims (calls answered, every acknowledged session on disk,
no commit for a duplicate webhook, the server stopped cleanly). It asserts
no time and no rate: it only keeps the harness from rotting.

  bench_smoke.py BENCH --server-bin S --bridge-bin B [--grpc-peer G]
env: PW_TEST_PG_HOST (a running cluster's socket dir): also --pgbench
     BENCH_SMOKE_SECONDS (per workload, default 2)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

WORKLOADS = ["echo_tcp_x1", "get_status_x1", "echo_tcp_x8", "get_status_x8", "echo_tcp_x64",
             "get_status_x64", "create_session_x64", "ingest_fresh_x64", "ingest_dup_x1",
             "mix_x64", "mix_open", "http_webhook_open", "credits_deduct_x8",
             "credits_balance_x8", "list_sessions_x8", "list_events_x8", "get_entitlements_x8",
             "list_api_keys_x8"]
FLOORS = ["echo_ipc", "get_status_ipc", "echo_tcp", "get_status_tcp", "lmdb_one_put",
          "lmdb_create_shape",
          "create_session_seq", "lmdb_batch_put", "create_session_concurrent"]


def fail(msg):
    print("bench_smoke: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(cmd, timeout=900):
    print("bench_smoke: " + " ".join(cmd), file=sys.stderr)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        fail("exit %d" % p.returncode)
    return p.stdout.decode()


def pg_floor_db(host):
    """Creates database bench_smoke_floor with the pgbench table; its conninfo."""
    psql = shutil.which("psql")
    if psql is None or shutil.which("pgbench") is None:
        return None
    base = ["psql", "-qX", "-h", host, "-U", "postgres"]
    subprocess.run(base + ["-d", "postgres", "-c", "DROP DATABASE IF EXISTS bench_smoke_floor"],
                   check=True)
    subprocess.run(base + ["-d", "postgres", "-c", "CREATE DATABASE bench_smoke_floor"], check=True)
    subprocess.run(base + ["-d", "bench_smoke_floor", "-c",
                           "CREATE TABLE floor (k bigserial PRIMARY KEY, v bytea NOT NULL)"],
                   check=True)
    return "host=%s user=postgres dbname=bench_smoke_floor" % host


def main():
    args = sys.argv[1:]
    if not args:
        fail("usage: bench_smoke.py BENCH [flags]")
    bench, flags = args[0], args[1:]
    secs = os.environ.get("BENCH_SMOKE_SECONDS", "2")
    extra = []
    pg = os.environ.get("PW_TEST_PG_HOST")
    if pg:
        conn = pg_floor_db(pg)
        if conn:
            extra += ["--pgbench", conn]
    grpc = "--grpc-peer" in flags
    out = run([bench] + flags + extra + [
        "--json", "--n", "100", "--threads", "4", "--seconds", secs, "--inflight", "16",
        "--rate", "100", "--http-rate", "100", "--pool", "3000", "--preload", "1000",
        "--rounds", "1"])
    try:
        r = json.loads(out)
    except ValueError as e:
        fail("--json printed no JSON object: %s" % e)
    for k in FLOORS:
        row = r["results"].get(k)
        if not row or row["count"] <= 0:
            fail("floor phase %s did not run" % k)
    for k in WORKLOADS:
        row = r["workloads"].get(k)
        if not row or row["count"] <= 0 or row["ops_per_s"] <= 0:
            fail("workload %s did not run" % k)
        if row["p50_us"] > row["p99_us"] or row["p99_us"] > row["max_us"]:
            fail("workload %s: percentiles out of order" % k)
        for f in ("bench_cpu_us_per_op", "server_cpu_us_per_op", "bridge_cpu_us_per_op",
                  "cpu_us_per_op_total", "cpu_ceiling_ops_per_s"):
            if f not in row:
                fail("workload %s: no %s in the JSON" % (k, f))
        if k != "http_webhook_open" and row["bridge_cpu_us_per_op"] is not None:
            fail("workload %s does not go through the bridge but has its CPU" % k)
    http = r["workloads"]["http_webhook_open"]
    # the bridge's CPU is counted in 10 ms ticks: measured (>= 0) over a
    # phase of a second or more, null below
    if float(secs) >= 1.0 and (http["bridge_cpu_us_per_op"] is None or
                               http["bridge_cpu_us_per_op"] < 0):
        fail("http_webhook_open: the bridge's CPU per webhook was not measured")
    if "events per page" not in r["workloads"]["list_events_x8"]["note"]:
        fail("list_events_x8 does not note its events per page")
    if r["workloads"]["ingest_dup_x1"]["commits"] != 0:
        fail("duplicate webhooks committed %d transactions" %
             r["workloads"]["ingest_dup_x1"]["commits"])
    for k in ("create_session_x64", "ingest_fresh_x64", "mix_x64"):
        if r["workloads"][k]["commits"] <= 0:
            fail("durable workload %s committed nothing" % k)
    gc = r["group_commit"]
    if gc["sessions_expected"] != gc["sessions_on_disk"]:
        fail("sessions acknowledged %d != on disk %d" %
             (gc["sessions_expected"], gc["sessions_on_disk"]))
    if r["preload"] != 1000 or gc["sessions_on_disk"] < 1000:
        fail("--preload 1000 did not land")
    if r["server_exit"] != 0:
        fail("server exit %d" % r["server_exit"])
    if grpc and ("grpc_x8" not in r["peers"] or "grpc_x16" not in r["peers"]):
        fail("the gRPC peer comparison did not run")
    if pg and shutil.which("pgbench") and "pgbench_x16" not in r["peers"]:
        fail("the pgbench comparison did not run")
    # the table, once, briefly, with the same run's JSON in a file
    with tempfile.TemporaryDirectory() as d:
        jpath = os.path.join(d, "run.json")
        table = run([bench] + flags + ["--no-floors", "--workloads", "get_status_x1,list_api_keys_x8",
                                       "--seconds", "0.3", "--pool", "200", "--json-out", jpath])
        if "goals of issue 12" not in table or "list_api_keys" not in table:
            fail("the table lacks its sections")
        with open(jpath) as f:
            j = json.load(f)
        if sorted(j["workloads"]) != ["get_status_x1", "list_api_keys_x8"]:
            fail("--json-out holds other workloads than the run: %s" % sorted(j["workloads"]))
    print("bench_smoke: ok: %d floor phases, %d workloads, %d peers" %
          (len(FLOORS), len(WORKLOADS), len(r["peers"])), file=sys.stderr)


if __name__ == "__main__":
    main()
