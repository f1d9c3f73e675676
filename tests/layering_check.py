#!/usr/bin/env python3
"""layering_check.py - the rules of docs/ARCHITECTURE.md that the compiler
cannot see, checked on the source tree (ctest: layering_check):
  1. no LMDB name (MDB_*, mdb_*, lmdb.h) in code outside the LMDB engine
     (store/kv_lmdb.[ch]), and no libpq name (PQ*, PGconn, PGresult,
     libpq-fe.h) outside the PostgreSQL engine (store/kv_pg.[ch]); string
     literals (help text) are not code;
  2. the store's public header (store/store.h) includes no generated wire
     header (paywire/v1/...): the store takes and returns its own types;
  3. no include cycle between modules (a module is x.c with x.h) of store/,
     server/, common/, bridge/, client/;
  4. one table per variant: no switch over calls or routes in server/ or
     bridge/ (the call table is srv_calls.c, the route table bridge_routes.c).
Prints every breach with its file and line; exits 1 if there is one.
Usage: layering_check.py SOURCE_DIR"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
dirs = ["store", "server", "common", "bridge", "client", "include", "provider"]
engine = {"store/kv_lmdb.c", "store/kv_lmdb.h"}
pg_engine = {"store/kv_pg.c", "store/kv_pg.h"}
breaches = []


def sources():
    for d in dirs:
        for base, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    path = os.path.join(base, f)
                    yield os.path.relpath(path, root), path


def code_lines(path):
    """Lines with string literals emptied and comments removed."""
    text = open(path, encoding="utf-8").read()
    out = []
    in_comment = False
    for line in text.split("\n"):
        line = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
        if in_comment:
            end = line.find("*/")
            if end < 0:
                out.append("")
                continue
            line = line[end + 2:]
            in_comment = False
        line = re.sub(r"/\*.*?\*/", "", line)
        start = line.find("/*")
        if start >= 0:
            line, in_comment = line[:start], True
        line = re.sub(r"//.*", "", line)
        out.append(line)
    return out


lmdb = re.compile(r"\bMDB_\w+|\bmdb_\w+|lmdb\.h")
libpq = re.compile(r"\bPQ[a-z]\w*|\bPGconn\b|\bPGresult\b|libpq-fe\.h")
includes = {}
for rel, path in sources():
    lines = open(path, encoding="utf-8").read().split("\n")
    if rel not in engine:
        for n, line in enumerate(code_lines(path), 1):
            m = lmdb.search(line)
            if m:
                breaches.append(f"{rel}:{n}: LMDB name {m.group(0)} outside the LMDB engine")
    if rel not in pg_engine:
        for n, line in enumerate(code_lines(path), 1):
            m = libpq.search(line)
            if m:
                breaches.append(f"{rel}:{n}: libpq name {m.group(0)} outside the PostgreSQL engine")
    incs = []
    for n, line in enumerate(lines, 1):
        m = re.match(r'\s*#\s*include\s*[<"]([^>"]+)[>"]', line)
        if m:
            incs.append((n, m.group(1)))
    includes[rel] = incs
    if rel == "store/store.h":
        for n, inc in incs:
            if inc.startswith("paywire/v1/"):
                breaches.append(f"{rel}:{n}: the store's header includes the wire header {inc}")
    if rel.startswith(("server/", "bridge/")) and rel.endswith(".c"):
        for n, line in enumerate(code_lines(path), 1):
            if re.search(r"\bcase\s+(PW_CALL|PW_ROUTE|BRIDGE_ROUTE)_", line) or \
               re.search(r"\bswitch\s*\(\s*(call|route)\b", line):
                breaches.append(f"{rel}:{n}: a switch over calls or routes (use the table)")

# 3. module graph: x.c and x.h are one module; an edge for each local include
mod_of = {}
for rel in includes:
    if not rel.startswith("include/"):
        mod_of.setdefault(os.path.basename(rel), os.path.splitext(rel)[0])
graph = {}
for rel, incs in includes.items():
    if rel.startswith("include/"):
        continue
    me = os.path.splitext(rel)[0]
    for n, inc in incs:
        other = mod_of.get(os.path.basename(inc))
        if other and other != me and os.path.dirname(other) == os.path.dirname(me):
            graph.setdefault(me, {}).setdefault(other, f"{rel}:{n}")

state = {}
stack = []


def visit(m):
    state[m] = 1
    stack.append(m)
    for o in sorted(graph.get(m, {})):
        if state.get(o) == 1:
            cyc = stack[stack.index(o):] + [o]
            where = ", ".join(graph[a][b] for a, b in zip(cyc, cyc[1:]))
            breaches.append("include cycle " + " -> ".join(cyc) + f" ({where})")
        elif o not in state:
            visit(o)
    stack.pop()
    state[m] = 2


for m in sorted(graph):
    if m not in state:
        visit(m)

for b in breaches:
    print("layering: " + b)
nfiles = len(includes)
print(f"layering: {nfiles} files, {sum(len(v) for v in graph.values())} module edges, "
      f"{len(breaches)} breaches")
sys.exit(1 if breaches else 0)
