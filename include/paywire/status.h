/*
 * paywire/status.h - the one status table of paywire.
 *
 * Every error in paywire is a pw_status. PW_STATUS_MAP has one row per code:
 *   XX(NAME, value, wire, http, message)
 * - value: the pw_status number. Values 0..16 are gRPC's numeric codes and are
 *   what travels on the wire (paywire.v1.Status.code). Values >= 100 refine a
 *   wire code with a more precise cause; they travel as their `wire` code.
 * - http: the HTTP status the bridge answers with.
 * - message: a default human message (callers usually send a more precise one).
 * Rows are never renumbered. Thread-safe, no allocation.
 */
#ifndef PAYWIRE_STATUS_H
#define PAYWIRE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#define PW_STATUS_MAP(XX)                                                          \
	XX(OK, 0, 0, 200, "ok")                                                        \
	XX(INVALID_ARGUMENT, 3, 3, 400, "invalid argument")                            \
	XX(DEADLINE_EXCEEDED, 4, 4, 504, "deadline exceeded")                          \
	XX(NOT_FOUND, 5, 5, 404, "not found")                                          \
	XX(ALREADY_EXISTS, 6, 6, 409, "already exists")                                \
	XX(PERMISSION_DENIED, 7, 7, 403, "permission denied")                          \
	XX(RESOURCE_EXHAUSTED, 8, 8, 429, "resource exhausted")                        \
	XX(FAILED_PRECONDITION, 9, 9, 409, "failed precondition")                      \
	XX(ABORTED, 10, 10, 409, "aborted")                                            \
	XX(UNIMPLEMENTED, 12, 12, 501, "unimplemented")                                \
	XX(INTERNAL, 13, 13, 500, "internal error")                                    \
	XX(UNAVAILABLE, 14, 14, 503, "unavailable, retry later")                       \
	XX(UNAUTHENTICATED, 16, 16, 401, "unauthenticated")                            \
	XX(INVALID_TRANSITION, 100, 9, 409, "transition not allowed by the state machine") \
	XX(IDEMPOTENCY_CONFLICT, 101, 10, 409, "idempotency key reused with different parameters") \
	XX(PAYLOAD_TOO_LARGE, 102, 8, 413, "payload too large")                        \
	XX(TIMEOUT, 103, 4, 504, "timed out waiting for the server")

typedef enum pw_status {
#define PW_XX_ENUM(name, value, wire, http, msg) PW_##name = value,
	PW_STATUS_MAP(PW_XX_ENUM)
#undef PW_XX_ENUM
} pw_status;

/* "INVALID_ARGUMENT" etc.; "UNKNOWN" for a value not in the table. */
const char *pw_status_name(pw_status st);
/* The default message of the row. */
const char *pw_status_message(pw_status st);
/* The HTTP status for the row; 500 for a value not in the table. */
int pw_status_http(pw_status st);
/* The gRPC code sent on the wire for st. */
int pw_status_wire(pw_status st);
/* The pw_status for a wire code: the base row (0..16); PW_INTERNAL if unknown. */
pw_status pw_status_from_wire(int code);

#ifdef __cplusplus
}
#endif
#endif
