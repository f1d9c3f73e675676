/*
 * store_payment.c - applying provider events and redeeming access links.
 *
 * PLACEHOLDER so that paywire_store links: the payment engineer replaces this
 * file with the real store_webhook_apply / store_access_redeem (see
 * store_internal.h for the helpers they build on). Until then both answer
 * PW_UNIMPLEMENTED and write nothing.
 */
#include "store_internal.h"

#include <string.h>

pw_status
store_webhook_apply(store_txn *t, const pw_event *ev, store_webhook_result *out)
{
	PW_ASSERT(t != NULL && ev != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	pw_log(PW_LOG_WARN, "store: webhook apply is not implemented yet");
	return PW_UNIMPLEMENTED;
}

pw_status
store_access_redeem(store_txn *t, const char *session_id, const char *token,
    Paywire__V1__RedeemAccessResponse **out)
{
	PW_ASSERT(t != NULL && session_id != NULL && token != NULL && out != NULL);
	*out = NULL;
	pw_log(PW_LOG_WARN, "store: access redeem is not implemented yet");
	return PW_UNIMPLEMENTED;
}
