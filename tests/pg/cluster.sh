#!/usr/bin/env bash
# cluster.sh - a private PostgreSQL 15 cluster for tests: initdb and pg_ctl
# from /usr/lib/postgresql/15/bin on DIR, listening only on a Unix socket in
# DIR (no TCP port, no system service). Runs the server as the `postgres`
# user when called as root (initdb refuses root), as the caller otherwise.
#
#   cluster.sh start DIR     initdb (if DIR has no cluster) and start; prints
#                            the socket directory (connect with host=DIR,
#                            user=postgres)
#   cluster.sh stop DIR      stop (fast) and remove DIR
#   cluster.sh restart DIR   pg_ctl restart -m immediate (a crash of the
#                            database server; its recovery runs at start)
#
# PW_PG_BIN overrides the binaries' directory.
set -euo pipefail

bin=${PW_PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: cluster.sh start|stop|restart DIR}
dir=${2:?usage: cluster.sh start|stop|restart DIR}

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	[ -x "$bin/initdb" ] || { echo "cluster.sh: $bin/initdb not found (apt-get install postgresql-15)" >&2; exit 2; }
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir" && chmod 0700 "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
			>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
		cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
max_connections = 300
fsync = on
synchronous_commit = on
logging_collector = off
log_min_messages = warning
CONF
	fi
	# already running (a run that was stopped before its cleanup): reuse it
	if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start >/dev/null ||
			{ tail -20 "$dir/server.log" >&2; exit 1; }
	fi
	echo "$dir"
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 120 stop >/dev/null || true
	fi
	rm -rf "$dir"
	;;
restart)
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m immediate -w -t 120 restart >/dev/null ||
		{ tail -20 "$dir/server.log" >&2; exit 1; }
	;;
*)
	echo "usage: cluster.sh start|stop|restart DIR" >&2
	exit 2
	;;
esac
