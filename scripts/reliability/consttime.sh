#!/usr/bin/env bash
# consttime.sh - fails if memcmp/strcmp/strncmp/bcmp (or a case-insensitive
# or timingsafe-less relative) touches a MAC, signature, token, key, secret or
# hash anywhere in paywire's C sources, and if a file that computes an HMAC or
# a keyed hash for checking has no constant-time compare (sodium_memcmp /
# crypto_*_verify*).
#
#   scripts/reliability/consttime.sh [--ci|--full]   (both modes are the same
#   check: it reads the sources, it takes a second)
#
# A compare is "sensitive" when an identifier of its arguments (string
# literals and comments removed) contains one of the words below as a
# _-separated part (api_key, mac, sigs, token_secret, prev_hash...). Every
# sensitive compare that is legitimate (a public prefix, a map key, a field
# name) is listed in scripts/reliability/consttime.allow with its reason;
# entries that no longer match anything fail the check too, so the list
# cannot rot. Exit 0 clean, 1 on any finding. Summary on the last line.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ALLOW=${CONSTTIME_ALLOW:-$ROOT/scripts/reliability/consttime.allow}
DIRS=${CONSTTIME_DIRS:-"common server store client bridge bench include"}
cd "$ROOT"
exec python3 - "$ALLOW" $DIRS <<'PY'
import os, re, sys

allow_path, dirs = sys.argv[1], sys.argv[2:]
WORDS = {"mac", "macs", "hmac", "sig", "sigs", "signature", "signatures", "token", "tokens",
         "secret", "secrets", "key", "keys", "hash", "hashes", "digest", "jwt", "password",
         "passwd", "auth", "whsec", "tag", "apikey", "credential", "credentials", "nonce"}
CMP = re.compile(r"\b(memcmp|strcmp|strncmp|bcmp|strcasecmp|strncasecmp|wcscmp)\s*\(")
CT = re.compile(r"\b(sodium_memcmp|crypto_verify_(16|32|64)|crypto_auth_hmacsha256_verify|"
                r"crypto_auth_hmacsha512_verify|crypto_auth_verify|crypto_generichash_verify)\s*\(")
KEYED = re.compile(r"\bcrypto_auth_hmacsha(256|512)_final\s*\(")

def strip(src):
    """Comments and string/char literals blanked, newlines kept (line numbers hold)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j])); i = j
        elif src.startswith("//", i):
            j = src.find("\n", i); j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(c + re.sub(r"[^\n]", " ", src[i + 1:j]) + c); i = j + 1
        else:
            out.append(c); i += 1
    return "".join(out)

def call_args(text, start):
    depth, i = 0, start
    while i < len(text):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return text[start + 1:]

def sensitive(args):
    hits = set()
    for ident in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", args):
        parts = [p for p in ident.lower().split("_") if p]
        if any(p in WORDS for p in parts) or ident.lower() in WORDS:
            hits.add(ident)
    return sorted(hits)

allow = []  # (path, fragment, reason)
with open(allow_path) as f:
    for ln, line in enumerate(f, 1):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("|")
        if len(parts) != 3 or not all(p.strip() for p in parts):
            print(f"{allow_path}:{ln}: expected 'path | code fragment | reason'"); sys.exit(1)
        allow.append([p.strip() for p in parts])
used = [0] * len(allow)

findings, compares, sensitive_n, files = [], 0, 0, 0
for d in dirs:
    for root, _, names in os.walk(d):
        for name in sorted(names):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            raw = open(path, encoding="utf-8", errors="replace").read()
            text = strip(raw)
            files += 1
            raw_lines = raw.split("\n")
            for m in CMP.finditer(text):
                compares += 1
                args = call_args(text, m.end() - 1)
                hits = sensitive(args)
                if not hits:
                    continue
                sensitive_n += 1
                line = text.count("\n", 0, m.start()) + 1
                nlines = args.count("\n") + 1
                src = " ".join(l.strip() for l in raw_lines[line - 1:line - 1 + nlines])
                ok = False
                for k, (apath, frag, _) in enumerate(allow):
                    if apath == path and frag in src:
                        used[k] += 1; ok = True
                if not ok:
                    findings.append(f"{path}:{line}: {m.group(1)} on {', '.join(hits)}: {src}")
            signer = any(apath == path and frag.startswith("crypto_auth_hmacsha")
                         for apath, frag, _ in allow)
            if KEYED.search(text) and not CT.search(text) and not signer:
                findings.append(f"{path}: computes an HMAC but has no constant-time compare "
                                f"(sodium_memcmp / crypto_*_verify); if it only signs, allowlist "
                                f"'{path} | crypto_auth_hmacsha256_final | signs only'")
for k, (apath, frag, reason) in enumerate(allow):
    if used[k] == 0 and frag.startswith("crypto_auth_hmacsha"):
        continue  # a signer-only entry matches nothing above by design
    if used[k] == 0:
        findings.append(f"{allow_path}: stale entry (matches no compare): {apath} | {frag}")
for f in findings:
    print("consttime: " + f)
status = "FAIL" if findings else "ok"
print(f"consttime: {status}: {files} files, {compares} compares, {sensitive_n} on sensitive "
      f"names ({sum(1 for u in used if u)} allowlisted entries used), {len(findings)} findings")
sys.exit(1 if findings else 0)
PY
