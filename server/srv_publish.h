/*
 * srv_publish.h - the change feed's publisher: every committed event, sent
 * on an nng PUB socket (--publish URL) after its commit.
 *
 * The store calls srv_publish_notify (its commit hook) on the writer thread
 * after each batch that committed a change; that only wakes the publisher's
 * own thread, which reads the events after the last one it sent
 * (store_events_list, a read transaction: never the writer's) and sends
 * each, in seq order. It also looks every PW_PUBLISH_POLL_MS, so events
 * other servers committed to a shared PostgreSQL store go out too. It starts
 * at the head as of start-up: history is for ListEvents, which is also how a
 * subscriber fills a gap (PUB drops messages a slow subscriber cannot take).
 *
 * Message: the merchant id, one 0x00 byte, then a packed paywire.v1.Event.
 * A SUB socket subscribed to "mer_...\0" receives that merchant's events
 * only; subscribed to "" it receives every merchant's: bind --publish to a
 * private address (ipc:// in the data directory, or loopback).
 *
 * THREADS: start/stop on the main thread; notify from any thread.
 */
#ifndef SRV_PUBLISH_H
#define SRV_PUBLISH_H

#include <stddef.h>

#include <paywire/status.h>

#include "store.h"

typedef struct srv_publisher srv_publisher;

/* Listens on url (nng pub0) and starts the thread. PW_INVALID_ARGUMENT or
 * PW_UNAVAILABLE with why (the URL, not a secret) when it cannot. */
pw_status srv_publish_start(srv_publisher **out, store *st, const char *url, char *why,
    size_t why_size) PW_WUR;

/* store_commit_hook: wakes the publisher. arg: the srv_publisher. */
void srv_publish_notify(void *arg);

/* Sends what is committed and stops the thread; the store may still call
 * srv_publish_notify afterwards (it does nothing then). NULL ok. */
void srv_publish_stop(srv_publisher *p);

/* After the store is closed (no commit hook can run): stops if needed,
 * closes the socket, frees. NULL ok. */
void srv_publish_free(srv_publisher *p);

/* Events sent so far (tests, logs). */
uint64_t srv_publish_sent(const srv_publisher *p);

#endif
