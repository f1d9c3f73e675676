/* paywire/version.h - version of libpaywire and of the wire contract. */
#ifndef PAYWIRE_VERSION_H
#define PAYWIRE_VERSION_H

#define PW_VERSION_MAJOR 0
#define PW_VERSION_MINOR 1
#define PW_VERSION_PATCH 0
#define PW_VERSION_STRING "0.1.0"
#define PW_WIRE_PACKAGE "paywire.v1"
/* The store's on-disk format: the record schema (proto/paywire/store/v1,
 * package paywire.store.v1) and its key layout. A build reads stores of this
 * format; a change that an older build could not read increments it (the
 * PostgreSQL engine's table layout has its own migration number,
 * KV_PG_SCHEMA_VERSION in store/kv_pg.h). */
#define PW_STORE_FORMAT_VERSION 1
#define PW_STORE_FORMAT_PACKAGE "paywire.store.v1"

/* What every program's --version prints after its name, e.g.
 * "paywire-server 0.1.0 (wire paywire.v1, store format 1)". */
#define PW_VERSION_STR_(x) #x
#define PW_VERSION_STR(x) PW_VERSION_STR_(x)
#define PW_VERSION_LINE PW_VERSION_STRING " (wire " PW_WIRE_PACKAGE ", store format " \
	PW_VERSION_STR(PW_STORE_FORMAT_VERSION) ")"

#endif
