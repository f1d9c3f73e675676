/*
 * fuzz_bridge.c - the bridge's request handling that runs before any server
 * call: route matching (method + path), the session-id check of captured
 * segments, POST /create_session bodies (bridge_json_create_parse: keys,
 * types, amounts, metadata, the Idempotency-Key header) and raw JSON member
 * lookup. Byte 0 picks the part; the rest is its input:
 *   0: "METHOD PATH" (split at the first space)
 *   1: create_session body ("\n" + header value for Idempotency-Key after a
 *      NUL byte, when present)
 *   2: raw member: key up to the first NUL, then the body
 */
#include <stdlib.h>
#include <string.h>

#include "bridge_json.h"
#include "bridge_routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fz_route(const char *s, size_t n)
{
	char buf[4096], *path;
	bridge_match m;
	bridge_match_result res;

	if (n >= sizeof(buf) || memchr(s, '\0', n) != NULL) {
		return;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	path = strchr(buf, ' ');
	if (path == NULL) {
		return;
	}
	*path++ = '\0';
	res = bridge_route_match(buf, path, &m);
	switch (res) {
	case BRIDGE_MATCH_OK:
		if (m.route == NULL || memchr(m.session_id, '\0', sizeof(m.session_id)) == NULL ||
		    (m.session_id[0] != '\0' &&
		        !bridge_session_id_valid(m.session_id, strlen(m.session_id)))) {
			abort();
		}
		(void) bridge_route_body_limit(m.route, 1 << 20);
		(void) bridge_route_name(m.route);
		break;
	case BRIDGE_MATCH_BAD_METHOD:
		if (m.allow == NULL) {
			abort();
		}
		break;
	case BRIDGE_MATCH_NOT_FOUND: break;
	}
	(void) bridge_session_id_valid(s, n);
}

static void
fz_create(const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n);
	char idem[512];
	const char *idem_p = NULL;
	bridge_create c;
	char msg[256];
	size_t body_len = n;

	if (nul != NULL) {
		size_t hl = n - (size_t) (nul - s) - 1;
		body_len = (size_t) (nul - s);
		if (hl >= sizeof(idem) || memchr(nul + 1, '\0', hl) != NULL) {
			return;
		}
		memcpy(idem, nul + 1, hl);
		idem[hl] = '\0';
		idem_p = idem;
	}
	msg[0] = '\0';
	if (bridge_json_create_parse(s, body_len, idem_p, &c, msg, sizeof(msg)) == PW_OK) {
		if (c.params.amount_minor <= 0 || c.params.amount_minor > PW_AMOUNT_MINOR_MAX ||
		    strlen(c.currency) != 3) {
			abort();
		}
		bridge_json_create_fini(&c);
	} else if (memchr(msg, '\0', sizeof(msg)) == NULL || msg[0] == '\0') {
		abort();
	}
}

static void
fz_member(const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n), *val = NULL;
	size_t val_len = 0;

	if (nul == NULL) {
		return;
	}
	if (bridge_json_raw_member(nul + 1, n - (size_t) (nul - s) - 1, s, &val, &val_len) == PW_OK &&
	    val != NULL && (val < nul + 1 || val + val_len > s + n)) {
		abort(); /* the member must lie inside the body */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data + 1;

	if (size == 0) {
		return 0;
	}
	switch (data[0] % 3) {
	case 0: fz_route(s, size - 1); break;
	case 1: fz_create(s, size - 1); break;
	default: fz_member(s, size - 1); break;
	}
	return 0;
}
