/* status.c - the three views of the status table (see include/paywire/status.h). */
#include <paywire/status.h>

const char *
pw_status_name(pw_status st)
{
	switch (st) {
#define XX(name, value, wire, http, msg) \
	case PW_##name:                      \
		return #name;
		PW_STATUS_MAP(XX)
#undef XX
	}
	return "UNKNOWN";
}

const char *
pw_status_message(pw_status st)
{
	switch (st) {
#define XX(name, value, wire, http, msg) \
	case PW_##name:                      \
		return msg;
		PW_STATUS_MAP(XX)
#undef XX
	}
	return "unknown status";
}

int
pw_status_http(pw_status st)
{
	switch (st) {
#define XX(name, value, wire, http, msg) \
	case PW_##name:                      \
		return http;
		PW_STATUS_MAP(XX)
#undef XX
	}
	return 500;
}

int
pw_status_wire(pw_status st)
{
	switch (st) {
#define XX(name, value, wire, http, msg) \
	case PW_##name:                      \
		return wire;
		PW_STATUS_MAP(XX)
#undef XX
	}
	return PW_INTERNAL;
}

pw_status
pw_status_from_wire(int code)
{
	/* Only the base rows (value == wire) are reachable from the wire. */
#define XX(name, value, wire, http, msg)      \
	if ((value) == (wire) && code == (value)) \
		return PW_##name;
	PW_STATUS_MAP(XX)
#undef XX
	return PW_INTERNAL;
}
