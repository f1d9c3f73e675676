/*
 * srv_systemd.c - readiness and watchdog for paywire-server (srv_systemd.h).
 *
 * The probe is one static store_write: at most one is queued at a time
 * (probe_queued), its done callback runs on the writer thread and only sets
 * an atomic flag; the main thread sends the ping. store_close drains the
 * queue, so a queued probe's callback has run before the store is freed.
 */
#include <stdatomic.h>

#include "pw_common.h"
#include "pw_sd.h"
#include "srv_systemd.h"

/* Probes per watchdog interval: a ping comes long before the deadline even
 * when one probe waits behind a full batch. */
#define SRV_SD_PROBES_PER_INTERVAL 4

static uint64_t sd_watchdog_ms;       /* 0: no watchdog */
static int64_t sd_next_probe_ms;      /* main thread only */
static uint64_t sd_last_txnid;        /* main thread only */
static atomic_bool sd_probe_queued;   /* set by main, cleared by the writer */
static atomic_bool sd_probe_done;     /* set by the writer, cleared by main */
static store_write sd_probe;

static pw_status
sd_probe_apply(store_txn *t, void *arg)
{
	(void) t;
	(void) arg;
	return PW_OK; /* writes nothing: the batch ends without a commit */
}

/* Any status counts: the watchdog proves the writer is not stuck, not that
 * the store is healthy (a PostgreSQL store that is down answers UNAVAILABLE;
 * restarting the server would not bring it back, and a failed LMDB store
 * makes the server exit 3 by itself). */
static void
sd_probe_finished(pw_status st, void *arg)
{
	(void) st;
	(void) arg;
	atomic_store(&sd_probe_done, true);
	atomic_store(&sd_probe_queued, false);
}

void
srv_systemd_ready(const char *status)
{
	sd_watchdog_ms = pw_sd_watchdog_ms();
	sd_next_probe_ms = pw_monotonic_ms();
	pw_sd_ready(status);
	if (sd_watchdog_ms > 0) {
		pw_log(PW_LOG_INFO, "systemd watchdog: %llu ms, pinged once the writer runs a probe",
		    (unsigned long long) sd_watchdog_ms);
	}
}

void
srv_systemd_tick(store *st, bool read_only)
{
	int64_t now;

	if (sd_watchdog_ms == 0) {
		return;
	}
	if (atomic_exchange(&sd_probe_done, false)) {
		pw_sd_watchdog();
	}
	now = pw_monotonic_ms();
	if (now < sd_next_probe_ms || atomic_load(&sd_probe_queued) || store_failed(st)) {
		return;
	}
	sd_next_probe_ms = now + (int64_t) (sd_watchdog_ms / SRV_SD_PROBES_PER_INTERVAL);
	if (read_only) {
		pw_sd_watchdog();
		return;
	}
	sd_probe = (store_write) { .apply = sd_probe_apply, .done = sd_probe_finished };
	atomic_store(&sd_probe_queued, true);
	if (store_submit(st, &sd_probe) != PW_OK) {
		uint64_t txnid = store_last_txnid(st);

		atomic_store(&sd_probe_queued, false);
		if (txnid != sd_last_txnid) { /* queue full, but the writer commits */
			pw_sd_watchdog();
		}
		sd_last_txnid = txnid;
	}
}

void
srv_systemd_stopping(void)
{
	pw_sd_stopping();
	sd_watchdog_ms = 0;
}
