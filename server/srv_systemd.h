/*
 * srv_systemd.h - paywire-server under systemd (Type=notify): READY=1 once it
 * really serves, and a watchdog whose ping proves the store's writer thread
 * still takes writes. Without systemd (or a build without libsystemd) every
 * call does nothing.
 */
#ifndef SRV_SYSTEMD_H
#define SRV_SYSTEMD_H

#include <stdbool.h>

#include "store.h"

/* Call once the store is open and every listener is bound. */
void srv_systemd_ready(const char *status);

/* Call from the main thread's loop (at least every MAIN_POLL_MS). With a
 * watchdog (WatchdogSec=), every quarter of its interval it queues an empty
 * write (no put: no commit, no fsync) and pings WATCHDOG=1 when the writer
 * has run it. A hung writer never runs it: no ping, systemd restarts the
 * server. A read-only server has no writer to prove: the main loop pings. A
 * full queue pings only if the writer committed since the last probe. The
 * probe's status does not matter: a hang is what the watchdog is for. */
void srv_systemd_tick(store *st, bool read_only);

/* STOPPING=1, then waits no more for a probe (store_close runs it). */
void srv_systemd_stopping(void);

#endif
