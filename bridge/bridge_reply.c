/* bridge_reply.c - the bridge's answers and their error shapes (see
 * bridge_reply.h). Errors map through pw_status_http(), never a blanket 500. */
#include "bridge_reply.h"

#include <stdint.h>
#include <string.h>

#include "bridge_json.h"
#include "bridge_pages.h"
#include "pw_common.h"

void
bridge_reply_init(bridge_reply *rp)
{
	uint8_t raw[16];

	PW_ASSERT(rp != NULL);
	memset(rp, 0, sizeof(*rp));
	rp->http = 500;
	rp->content_type = BRIDGE_CT_JSON;
	bridge_buf_init(&rp->body, PW_BRIDGE_REPLY_BYTES_MAX);
	pw_random(raw, sizeof(raw));
	pw_base64url(rp->nonce, sizeof(rp->nonce), raw, sizeof(raw));
}

void
bridge_reply_json_http_error(bridge_reply *rp, int http, const char *code, const char *message)
{
	PW_ASSERT(rp != NULL && code != NULL && message != NULL);
	PW_ASSERT(http >= 400 && http <= 599);
	rp->http = http;
	rp->content_type = BRIDGE_CT_JSON;
	rp->html = false;
	bridge_buf_wipe(&rp->body);
	bridge_buf_init(&rp->body, PW_BRIDGE_REPLY_BYTES_MAX);
	bridge_json_error(&rp->body, code, message);
}

void
bridge_reply_json_error(bridge_reply *rp, pw_status st, const char *message)
{
	PW_ASSERT(st != PW_OK);
	bridge_reply_json_http_error(rp, pw_status_http(st), pw_status_name(st),
	    message != NULL ? message : pw_status_message(st));
}

void
bridge_reply_html_error(bridge_reply *rp, pw_status st, const char *title, const char *message)
{
	PW_ASSERT(rp != NULL && st != PW_OK);
	PW_ASSERT(title != NULL && message != NULL);
	rp->http = pw_status_http(st);
	rp->content_type = BRIDGE_CT_HTML;
	rp->html = true;
	bridge_buf_wipe(&rp->body);
	bridge_buf_init(&rp->body, PW_BRIDGE_REPLY_BYTES_MAX);
	bridge_page_error(&rp->body, rp->http, title, message, rp->nonce);
}

void
bridge_reply_rate_limited(bridge_reply *rp, const char *message, int64_t retry_after_ms)
{
	PW_ASSERT(rp != NULL && retry_after_ms > 0);
	bridge_reply_json_http_error(rp, 429, "RESOURCE_EXHAUSTED", message);
	(void) snprintf(rp->retry_after, sizeof(rp->retry_after), "%lld",
	    (long long) ((retry_after_ms + 999) / 1000));
}
