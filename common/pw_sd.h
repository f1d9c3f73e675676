/*
 * pw_sd.h - the service manager's notifications (systemd's sd_notify):
 * readiness, the watchdog, stopping. Built with PW_SYSTEMD (libsystemd) they
 * go to $NOTIFY_SOCKET; without it, or when not started by systemd (no
 * NOTIFY_SOCKET), every call does nothing. Never holds a secret.
 */
#ifndef PW_SD_H
#define PW_SD_H

#include <stdbool.h>
#include <stdint.h>

/* True if this build can talk to systemd (built with libsystemd). */
bool pw_sd_built_in(void);

/* READY=1 with a STATUS= line (status may be NULL). */
void pw_sd_ready(const char *status);

/* STOPPING=1. */
void pw_sd_stopping(void);

/* WATCHDOG=1: "still alive", sent by the caller only once it has proof. */
void pw_sd_watchdog(void);

/* The watchdog interval systemd asked this process for (WatchdogSec=), in
 * milliseconds; 0 when no watchdog is wanted (or not built with systemd). */
uint64_t pw_sd_watchdog_ms(void);

#endif
