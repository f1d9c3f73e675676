/* provider.c - the provider table's names and variables (see pw_provider.h). */
#include "pw_provider.h"

#include <string.h>

#include "pw_common.h"

/* Each row's value in its part's range (include/paywire/provider.h). */
#define PW_XX_BASE_RANGE(NAME, value, name, label, secret_env)                   \
	_Static_assert((value) >= 1 && (value) <= PW_PROVIDER_VALUE_MAX,              \
	    #NAME ": a wire provider's value is 1..PW_PROVIDER_VALUE_MAX");
#define PW_XX_TEST_RANGE(NAME, value, name, label, secret_env)                   \
	_Static_assert((value) >= PW_PROVIDER_TEST_VALUE_MIN &&                       \
	        (value) <= PW_PROVIDER_TEST_VALUE_MAX,                                \
	    #NAME ": a test provider's value is PW_PROVIDER_TEST_VALUE_MIN..MAX");
PW_PROVIDER_MAP_BASE(PW_XX_BASE_RANGE)
PW_PROVIDER_MAP_TEST(PW_XX_TEST_RANGE)
#undef PW_XX_BASE_RANGE
#undef PW_XX_TEST_RANGE
_Static_assert(PW_PROVIDER_TEST_VALUE_MAX <= 255, "a provider value fits the store's key byte");
_Static_assert(PW_PROVIDER_COUNT >= 1, "the table has rows");

/* One row of the table, by index. */
static const struct {
	pw_provider provider;   /* PW_PROVIDER_<NAME> */
	const char *name;       /* lower-case name */
	const char *label;      /* the name people read */
	const char *secret_env; /* environment variable of its secrets */
} pw_provider_rows[PW_PROVIDER_COUNT] = {
#define PW_XX_ROW(NAME, value, name, label, secret_env) \
	[PW_PROVIDER_IX_##NAME] = { PW_PROVIDER_##NAME, name, label, secret_env },
	PW_PROVIDER_MAP(PW_XX_ROW)
#undef PW_XX_ROW
};

bool
pw_provider_known(pw_provider p)
{
	switch (p) {
	case PW_PROVIDER_NONE:
		return false;
#define PW_XX_CASE(NAME, value, name, label, secret_env) case PW_PROVIDER_##NAME:
		PW_PROVIDER_MAP(PW_XX_CASE)
#undef PW_XX_CASE
		return true;
	}
	return false;
}

size_t
pw_provider_index(pw_provider p)
{
	switch (p) {
	case PW_PROVIDER_NONE:
		break;
#define PW_XX_CASE(NAME, value, name, label, secret_env) \
	case PW_PROVIDER_##NAME:                             \
		return PW_PROVIDER_IX_##NAME;
		PW_PROVIDER_MAP(PW_XX_CASE)
#undef PW_XX_CASE
	}
	PW_ASSERT(!"pw_provider_index of a value that is not a provider");
	return 0;
}

pw_provider
pw_provider_at(size_t ix)
{
	PW_ASSERT(ix < PW_PROVIDER_COUNT);
	PW_ASSERT(pw_provider_index(pw_provider_rows[ix].provider) == ix);
	return pw_provider_rows[ix].provider;
}

const char *
pw_provider_name(pw_provider p)
{
	if (p == PW_PROVIDER_NONE) {
		return "none";
	}
	return pw_provider_known(p) ? pw_provider_rows[pw_provider_index(p)].name : "unknown";
}

bool
pw_provider_parse(const char *name, pw_provider *out)
{
	PW_ASSERT(out != NULL);
	if (name == NULL) {
		return false;
	}
	for (size_t ix = 0; ix < PW_PROVIDER_COUNT; ix++) {
		if (strcmp(name, pw_provider_rows[ix].name) == 0) {
			*out = pw_provider_rows[ix].provider;
			return true;
		}
	}
	return false;
}

const char *
pw_provider_label(pw_provider p)
{
	return pw_provider_known(p) ? pw_provider_rows[pw_provider_index(p)].label : "unknown";
}

const char *
pw_provider_secret_env(pw_provider p)
{
	return pw_provider_known(p) ? pw_provider_rows[pw_provider_index(p)].secret_env : NULL;
}
