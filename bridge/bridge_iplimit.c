/* bridge_iplimit.c - rate limits per client address (see bridge_iplimit.h). */
#include "bridge_iplimit.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define BRIDGE_IP_SHARD_SLOTS (PW_BRIDGE_IP_SLOTS / PW_BRIDGE_IP_SHARDS)

typedef struct bridge_ip_slot {
	bridge_ip_key key;
	bool used;
	int64_t tat;      /* theoretical arrival time, µs */
} bridge_ip_slot;

typedef struct bridge_ip_shard {
	pthread_mutex_t mu;
	bridge_ip_slot slots[BRIDGE_IP_SHARD_SLOTS];
} bridge_ip_shard;

struct bridge_iplimit {
	bridge_ip_rate rate;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	bridge_ip_shard shards[PW_BRIDGE_IP_SHARDS];
};

static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* ---- addresses ---- */

bool
bridge_ip_parse(const char *s, size_t len, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct in_addr a4;

	while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
		len--;
	}
	if (len == 0 || len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		memcpy(out, v4_prefix, sizeof(v4_prefix));
		memcpy(out + 12, &a4, 4);
		return true;
	}
	return inet_pton(AF_INET6, buf, out) == 1;
}

void
bridge_ip_key_of(const uint8_t addr[16], bridge_ip_key *out)
{
	memcpy(out->b, addr, 16);
	if (memcmp(addr, v4_prefix, sizeof(v4_prefix)) != 0) {
		memset(out->b + 8, 0, 8); /* IPv6: its /64 */
	}
}

static bool
bridge_cidr_has(const bridge_cidr *c, const uint8_t a[16])
{
	unsigned full = c->bits / 8;
	unsigned rest = c->bits % 8;

	if (memcmp(c->addr, a, full) != 0) {
		return false;
	}
	if (rest == 0) {
		return true;
	}
	return ((c->addr[full] ^ a[full]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

static bool
bridge_trusted(const bridge_trust *t, const uint8_t a[16])
{
	for (size_t i = 0; t != NULL && i < t->n; i++) {
		if (bridge_cidr_has(&t->cidrs[i], a)) {
			return true;
		}
	}
	return false;
}

bool
bridge_trust_parse(const char *s, bridge_trust *t, char *why, size_t why_size)
{
	const char *p = s;

	memset(t, 0, sizeof(*t));
	if (s == NULL || s[0] == '\0') {
		(void) snprintf(why, why_size, "--trust-forwarded-for wants CIDR[,CIDR...]");
		return false;
	}
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t) (end - p) : strlen(p);
		const char *slash = memchr(p, '/', len);
		size_t alen = slash != NULL ? (size_t) (slash - p) : len;
		bridge_cidr c;
		unsigned long bits;
		bool v4;

		if (t->n >= PW_BRIDGE_TRUSTED_PROXIES_MAX) {
			(void) snprintf(why, why_size, "--trust-forwarded-for: at most %u CIDRs",
			    PW_BRIDGE_TRUSTED_PROXIES_MAX);
			return false;
		}
		if (!bridge_ip_parse(p, alen, c.addr)) {
			(void) snprintf(why, why_size, "--trust-forwarded-for: '%.*s' is not an address",
			    (int) (alen < 64 ? alen : 64), p);
			return false;
		}
		v4 = memcmp(c.addr, v4_prefix, sizeof(v4_prefix)) == 0;
		bits = v4 ? 32 : 128;
		if (slash != NULL) {
			char num[8];
			char *e = NULL;
			size_t nlen = len - alen - 1;

			if (nlen == 0 || nlen >= sizeof(num) || slash[1] < '0' || slash[1] > '9') {
				(void) snprintf(why, why_size, "--trust-forwarded-for: bad prefix length");
				return false;
			}
			memcpy(num, slash + 1, nlen);
			num[nlen] = '\0';
			bits = strtoul(num, &e, 10);
			if (*e != '\0' || bits > (v4 ? 32u : 128u)) {
				(void) snprintf(why, why_size, "--trust-forwarded-for: prefix length out of "
				    "range (IPv4 0..32, IPv6 0..128)");
				return false;
			}
		}
		c.bits = (unsigned) bits + (v4 ? 96u : 0u);
		t->cidrs[t->n++] = c;
		if (end == NULL) {
			break;
		}
		p = end + 1;
	}
	return true;
}

void
bridge_client_addr(const uint8_t peer[16], const bridge_trust *trust, const pw_kv *headers,
    size_t headers_n, bridge_ip_key *out)
{
	uint8_t client[16];

	memcpy(client, peer, 16);
	if (bridge_trusted(trust, peer)) {
		/* X-Forwarded-For from the right: the last line's last entry first */
		for (size_t h = headers_n; h-- > 0;) {
			const char *v = headers[h].value;
			const char *name = headers[h].key; /* a header's name, lower-cased */
			size_t end;

			if (strcmp(name, "x-forwarded-for") != 0 || v == NULL) {
				continue;
			}
			end = strlen(v);
			for (;;) {
				size_t start = end;
				uint8_t hop[16];

				while (start > 0 && v[start - 1] != ',') {
					start--;
				}
				if (!bridge_ip_parse(v + start, end - start, hop)) {
					goto done; /* not an address: the last trusted hop is the client */
				}
				memcpy(client, hop, 16);
				if (!bridge_trusted(trust, hop)) {
					goto done;
				}
				if (start == 0) {
					break;
				}
				end = start - 1;
			}
		}
	}
done:
	bridge_ip_key_of(client, out);
}

bool
bridge_ip_rate_parse(const char *s, bridge_ip_rate *out)
{
	return pw_rate_parse(s, PW_BRIDGE_IP_RATE_MAX, &out->interval_us, &out->burst);
}

/* ---- the table ---- */

bridge_iplimit *
bridge_iplimit_new(bridge_ip_rate rate)
{
	bridge_iplimit *l = pw_calloc(1, sizeof(*l));

	if (l == NULL) {
		return NULL;
	}
	l->rate = rate;
	if (l->rate.interval_us > 0 && l->rate.burst == 0) {
		l->rate.burst = 1;
	}
	crypto_shorthash_keygen(l->hash_key);
	for (size_t i = 0; i < PW_BRIDGE_IP_SHARDS; i++) {
		PW_ASSERT(pthread_mutex_init(&l->shards[i].mu, NULL) == 0);
	}
	return l;
}

void
bridge_iplimit_free(bridge_iplimit *l)
{
	if (l == NULL) {
		return;
	}
	for (size_t i = 0; i < PW_BRIDGE_IP_SHARDS; i++) {
		(void) pthread_mutex_destroy(&l->shards[i].mu);
	}
	pw_free(l);
}

/* Two addresses as keyed (public data: a client's address). */
static bool
bridge_ip_same(const bridge_ip_key *a, const bridge_ip_key *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

/* The entry of key in sh (the mutex held): its own, a free one, an idle
 * one, else the one nearest to full (evicted). Never NULL. */
static bridge_ip_slot *
bridge_ip_slot_of(bridge_ip_shard *sh, size_t start, const bridge_ip_key *key, int64_t now_us)
{
	bridge_ip_slot *pick = NULL;

	for (size_t i = 0; i < PW_BRIDGE_IP_PROBE; i++) {
		bridge_ip_slot *s = &sh->slots[(start + i) % BRIDGE_IP_SHARD_SLOTS];

		if (s->used && bridge_ip_same(&s->key, key)) {
			return s;
		}
	}
	for (size_t i = 0; i < PW_BRIDGE_IP_PROBE; i++) {
		bridge_ip_slot *s = &sh->slots[(start + i) % BRIDGE_IP_SHARD_SLOTS];

		if (!s->used || s->tat <= now_us) {
			pick = s; /* free, or idle: its bucket is full, nothing is lost */
			break;
		}
		if (pick == NULL || s->tat < pick->tat) {
			pick = s; /* nearest to full */
		}
	}
	PW_ASSERT(pick != NULL);
	pick->used = true;
	pick->key = *key;
	pick->tat = 0;
	return pick;
}

bool
bridge_iplimit_take(bridge_iplimit *l, const bridge_ip_key *key, int64_t now_us,
    int64_t *retry_after_ms)
{
	uint8_t h8[crypto_shorthash_BYTES];
	uint64_t h;
	bridge_ip_shard *sh;
	bridge_ip_slot *s;
	int64_t t = l->rate.interval_us;
	int64_t limit;
	int64_t base;
	int64_t next;
	bool ok;

	PW_ASSERT(l != NULL && key != NULL && retry_after_ms != NULL);
	*retry_after_ms = 0;
	if (t <= 0) {
		return true;
	}
	(void) crypto_shorthash(h8, key->b, BRIDGE_IP_KEY_BYTES, l->hash_key);
	memcpy(&h, h8, sizeof(h));
	sh = &l->shards[h % PW_BRIDGE_IP_SHARDS];
	limit = (int64_t) l->rate.burst * t;
	PW_ASSERT(pthread_mutex_lock(&sh->mu) == 0);
	s = bridge_ip_slot_of(sh, (size_t) ((h / PW_BRIDGE_IP_SHARDS) % BRIDGE_IP_SHARD_SLOTS), key,
	    now_us);
	base = s->tat > now_us ? s->tat : now_us;
	next = base + t;
	ok = next - now_us <= limit;
	if (ok) {
		s->tat = next;
	} else {
		*retry_after_ms = (next - limit - now_us) / 1000 + 1;
	}
	PW_ASSERT(pthread_mutex_unlock(&sh->mu) == 0);
	return ok;
}

size_t
bridge_iplimit_used(bridge_iplimit *l)
{
	size_t n = 0;

	for (size_t i = 0; i < PW_BRIDGE_IP_SHARDS; i++) {
		PW_ASSERT(pthread_mutex_lock(&l->shards[i].mu) == 0);
		for (size_t j = 0; j < BRIDGE_IP_SHARD_SLOTS; j++) {
			n += l->shards[i].slots[j].used ? 1 : 0;
		}
		PW_ASSERT(pthread_mutex_unlock(&l->shards[i].mu) == 0);
	}
	return n;
}
