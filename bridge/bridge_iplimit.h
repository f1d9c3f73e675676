/*
 * bridge_iplimit.h - rate limits per client address on the bridge (issue
 * 11): a scraper cannot walk the public pages, and a flood on the provider
 * webhook route cannot take the server's time from everyone else.
 *
 * KEYS
 * The client's address as 16 bytes: IPv4 as ::ffff:a.b.c.d (the whole
 * address), IPv6 cut to its /64 (one subscriber's prefix: a host picks any
 * address inside it, so a per-address bucket would be no limit at all).
 *
 * THE CLIENT'S ADDRESS (bridge_client_addr)
 * The TCP peer, unless the peer is inside one of the trusted proxy CIDRs
 * (--trust-forwarded-for) and the request has X-Forwarded-For: then its
 * entries are read from the right (the last header line's last entry
 * first); trusted ones are skipped; the first untrusted entry is the client.
 * An entry that is not an address ends the walk at the last trusted hop
 * read (the proxy that appended it). All entries trusted: the leftmost. A
 * peer outside the trusted CIDRs: X-Forwarded-For is ignored (anyone can
 * send it).
 *
 * BUCKETS
 * GCRA as server/srv_limit.h: one theoretical arrival time per entry; the
 * first `burst` requests of an idle address pass at once, then `rate` per
 * interval; a refusal says when one would pass (retry_after_ms >= 1).
 *
 * TABLE (pw_limits.h PW_BRIDGE_IP_*)
 * A fixed array of PW_BRIDGE_IP_SLOTS entries in PW_BRIDGE_IP_SHARDS shards,
 * each behind its own mutex (held for a probe of PW_BRIDGE_IP_PROBE entries,
 * no allocation, no I/O). An address hashes (SipHash, a random key per
 * process: no one can aim collisions) to a shard and a start; it takes its
 * own entry, else a free one, else an idle one (its bucket full again: no
 * state is lost), else evicts the entry nearest to full. Memory never grows;
 * a flood of more distinct addresses than entries makes their limits
 * approximate, and nobody is refused for the table's own lack of room.
 *
 * THREADS: any number at once.
 */
#ifndef BRIDGE_IPLIMIT_H
#define BRIDGE_IPLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/client.h>

#include "pw_common.h"

#define BRIDGE_IP_KEY_BYTES 16

/* An address as the limiter keys it. */
typedef struct bridge_ip_key {
	uint8_t b[BRIDGE_IP_KEY_BYTES];
} bridge_ip_key;

/* A trusted proxy range. */
typedef struct bridge_cidr {
	uint8_t addr[16];  /* IPv4 as ::ffff:a.b.c.d */
	unsigned bits;     /* prefix length over the 128 bits (IPv4: 96 + its own) */
} bridge_cidr;

typedef struct bridge_trust {
	bridge_cidr cidrs[PW_BRIDGE_TRUSTED_PROXIES_MAX];
	size_t n;
} bridge_trust;

/* "CIDR[,CIDR...]" (a.b.c.d/n, x:y::/n, or an address alone: /32, /128)
 * into t. False on a bad one or more than PW_BRIDGE_TRUSTED_PROXIES_MAX;
 * why says which. */
bool bridge_trust_parse(const char *s, bridge_trust *t, char *why, size_t why_size);

/* A textual IPv4 or IPv6 address (no port, no brackets) as 16 bytes
 * (IPv4 mapped). False if it is not one. */
bool bridge_ip_parse(const char *s, size_t len, uint8_t out[16]);

/* The client of a request: peer (16 bytes, IPv4 mapped) and its headers
 * (names lower-cased, as bridge_request carries them), by the rules above;
 * out is the limiter's key (IPv6 cut to /64). */
void bridge_client_addr(const uint8_t peer[16], const bridge_trust *trust,
    const pw_kv *headers, size_t headers_n, bridge_ip_key *out);

/* The key of a 16-byte address: IPv4-mapped whole, IPv6 cut to /64. */
void bridge_ip_key_of(const uint8_t addr[16], bridge_ip_key *out);

/* A rate: one request per interval_us (0: no limit), burst at once. */
typedef struct bridge_ip_rate {
	int64_t interval_us;
	uint32_t burst;
} bridge_ip_rate;

/* "R[/s|/m|/h][:B]" (R 0..PW_BRIDGE_IP_RATE_MAX per second, minute or hour;
 * 0: off; B 1..PW_BRIDGE_IP_RATE_MAX, default 2 x R, at least 1). */
bool bridge_ip_rate_parse(const char *s, bridge_ip_rate *out);

typedef struct bridge_iplimit bridge_iplimit;

/* A table for one route class. NULL on out of memory. A rate with
 * interval_us 0 gives a limiter that lets everything pass. */
bridge_iplimit *bridge_iplimit_new(bridge_ip_rate rate);
void bridge_iplimit_free(bridge_iplimit *l);

/* Takes one request of key at now_us (monotonic µs). True: allowed. False:
 * refused, *retry_after_ms (>= 1) says when one would pass. */
bool bridge_iplimit_take(bridge_iplimit *l, const bridge_ip_key *key, int64_t now_us,
    int64_t *retry_after_ms);

/* Entries in use (tests). */
size_t bridge_iplimit_used(bridge_iplimit *l);

#endif
