/*
 * pw_sd.c - sd_notify wrappers (see pw_sd.h). The only file that includes
 * <systemd/sd-daemon.h>; a build without libsystemd compiles the no-ops.
 */
#include "pw_sd.h"

#include <stddef.h>
#include <stdio.h>

#ifdef PW_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

bool
pw_sd_built_in(void)
{
#ifdef PW_SYSTEMD
	return true;
#else
	return false;
#endif
}

void
pw_sd_ready(const char *status)
{
#ifdef PW_SYSTEMD
	if (status != NULL) {
		(void) sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	} else {
		(void) sd_notify(0, "READY=1");
	}
#else
	(void) status;
#endif
}

void
pw_sd_stopping(void)
{
#ifdef PW_SYSTEMD
	(void) sd_notify(0, "STOPPING=1");
#endif
}

void
pw_sd_watchdog(void)
{
#ifdef PW_SYSTEMD
	(void) sd_notify(0, "WATCHDOG=1");
#endif
}

uint64_t
pw_sd_watchdog_ms(void)
{
#ifdef PW_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		return usec / 1000 > 0 ? usec / 1000 : 1;
	}
#endif
	return 0;
}
