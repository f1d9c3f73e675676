/*
 * srv_wire.c - the wire validator (see srv_wire.h and docs/WIRE.md).
 *
 * One recursive walk over the bytes, one frame per nested message. Each field
 * is read in two steps: wire_read_field parses its key and finds its extent
 * (everything protobuf-c's scanner would refuse, and unknown fields), then
 * wire_check_field applies paywire's stricter rules to its contents. The
 * limits checked here are all those under which protobuf-c would accept the
 * bytes but change their meaning (truncate, merge, keep the last).
 */
#include "srv_wire.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "paywire/v1/paywire.pb-c.h"
#include "pw_provider.h"

#define WIRE_KEY_BYTES_MAX 5     /* protobuf-c reads a key in at most 5 bytes */
#define WIRE_LENGTH_BYTES_MAX 5  /* and a length prefix in at most 5 */
#define WIRE_VARINT_BYTES_MAX 10 /* 64 bits in 7-bit groups */

typedef struct wire_ctx {
	const uint8_t *base; /* the top-level buffer: offsets in reasons count from here */
	char *why;           /* reason buffer (may be NULL) */
	size_t why_size;     /* its size */
} wire_ctx;

/* One message being walked. */
typedef struct wire_msg {
	const ProtobufCMessageDescriptor *desc;       /* its type */
	const uint8_t *p;                             /* its first byte */
	size_t len;                                   /* its size */
	int depth;                                    /* 1 for the top level */
	uint64_t seen[PW_WIRE_FIELDS_MAX / 64];      /* field indexes met (bit per index) */
	size_t repeated;                              /* entries over all repeated fields */
	bool maps_to_check;                           /* a map field has 2+ entries */
} wire_msg;

/* One field occurrence. */
typedef struct wire_field {
	const uint8_t *key;                  /* first byte of its key */
	uint64_t number;                     /* field number */
	unsigned wt;                         /* wire type */
	const ProtobufCFieldDescriptor *fd;  /* its descriptor */
	unsigned index;                      /* fd - desc->fields */
	const uint8_t *data;                 /* payload (after the length prefix) */
	size_t size;                         /* payload bytes */
	uint64_t value;                      /* VARINT: the value */
	const uint8_t *end;                  /* first byte after the field */
} wire_field;

typedef enum wire_varint_rc {
	WIRE_VARINT_OK = 0,
	WIRE_VARINT_TRUNCATED,
	WIRE_VARINT_TOO_LONG,
	WIRE_VARINT_OVERFLOW,
} wire_varint_rc;

static pw_status wire_message(wire_ctx *c, const ProtobufCMessageDescriptor *desc,
    const uint8_t *p, size_t len, int depth);

__attribute__((format(printf, 2, 3))) static pw_status
wire_fail(wire_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->why != NULL && c->why_size > 0) {
		va_start(ap, fmt);
		(void) vsnprintf(c->why, c->why_size, fmt, ap);
		va_end(ap);
	}
	return PW_INVALID_ARGUMENT;
}

static size_t
wire_off(const wire_ctx *c, const uint8_t *at)
{
	return (size_t) (at - c->base);
}

/* Reads a varint of at most max_bytes from p[0..avail). */
static wire_varint_rc
wire_varint(const uint8_t *p, size_t avail, unsigned max_bytes, uint64_t *out, size_t *used)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < max_bytes; i++) {
		if (i == avail) {
			return WIRE_VARINT_TRUNCATED;
		}
		if (i == 9 && (p[i] & 0x7f) > 1) {
			return WIRE_VARINT_OVERFLOW; /* bits past 64 */
		}
		v |= (uint64_t) (p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			*out = v;
			*used = i + 1;
			return WIRE_VARINT_OK;
		}
	}
	return WIRE_VARINT_TOO_LONG;
}

static const char *
wire_type_name(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32: return "int32";
	case PROTOBUF_C_TYPE_SINT32: return "sint32";
	case PROTOBUF_C_TYPE_SFIXED32: return "sfixed32";
	case PROTOBUF_C_TYPE_INT64: return "int64";
	case PROTOBUF_C_TYPE_SINT64: return "sint64";
	case PROTOBUF_C_TYPE_SFIXED64: return "sfixed64";
	case PROTOBUF_C_TYPE_UINT32: return "uint32";
	case PROTOBUF_C_TYPE_FIXED32: return "fixed32";
	case PROTOBUF_C_TYPE_UINT64: return "uint64";
	case PROTOBUF_C_TYPE_FIXED64: return "fixed64";
	case PROTOBUF_C_TYPE_FLOAT: return "float";
	case PROTOBUF_C_TYPE_DOUBLE: return "double";
	case PROTOBUF_C_TYPE_BOOL: return "bool";
	case PROTOBUF_C_TYPE_ENUM: return "enum";
	case PROTOBUF_C_TYPE_STRING: return "string";
	case PROTOBUF_C_TYPE_BYTES: return "bytes";
	case PROTOBUF_C_TYPE_MESSAGE: return "message";
	}
	return "unknown";
}

/* The one wire type a value of type t has when not packed. */
static unsigned
wire_type_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT: return PROTOBUF_C_WIRE_TYPE_32BIT;
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE: return PROTOBUF_C_WIRE_TYPE_64BIT;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE: return PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_BOOL:
	case PROTOBUF_C_TYPE_ENUM: break;
	}
	return PROTOBUF_C_WIRE_TYPE_VARINT;
}

static bool
wire_packable(const ProtobufCFieldDescriptor *fd)
{
	return fd->label == PROTOBUF_C_LABEL_REPEATED &&
	    wire_type_of(fd->type) != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
}

/* Binary search: protobuf-c sorts desc->fields by number. */
static const ProtobufCFieldDescriptor *
wire_lookup(const ProtobufCMessageDescriptor *desc, uint64_t number)
{
	unsigned lo = 0;
	unsigned hi = desc->n_fields;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		uint32_t id = desc->fields[mid].id;
		if (id == number) {
			return &desc->fields[mid];
		}
		if (id < number) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

static pw_status
wire_varint_fail(wire_ctx *c, const wire_msg *m, const wire_field *f, wire_varint_rc rc)
{
	const char *what = rc == WIRE_VARINT_TRUNCATED ? "truncated varint"
	    : rc == WIRE_VARINT_TOO_LONG                ? "varint longer than 10 bytes"
	                                                : "varint overflows 64 bits";
	return wire_fail(c, "field %u (%s) of %s: %s at byte %zu", f->fd->id, f->fd->name,
	    m->desc->name, what, wire_off(c, f->data));
}

/* Finds the payload of f (its key is read) and checks it stays inside m. */
static pw_status
wire_read_extent(wire_ctx *c, const wire_msg *m, wire_field *f, const uint8_t *at)
{
	size_t avail = (size_t) (m->p + m->len - at);
	size_t used = 0;
	uint64_t n = 0;
	wire_varint_rc rc;

	f->data = at;
	switch (f->wt) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		rc = wire_varint(at, avail, WIRE_VARINT_BYTES_MAX, &f->value, &used);
		if (rc != WIRE_VARINT_OK) {
			return wire_varint_fail(c, m, f, rc);
		}
		f->size = used;
		break;
	case PROTOBUF_C_WIRE_TYPE_64BIT:
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		f->size = f->wt == PROTOBUF_C_WIRE_TYPE_64BIT ? 8 : 4;
		if (avail < f->size) {
			return wire_fail(c, "field %u (%s) of %s: truncated %zu-byte value at byte %zu",
			    f->fd->id, f->fd->name, m->desc->name, f->size, wire_off(c, at));
		}
		break;
	default: /* LENGTH_PREFIXED: the only other type wire_read_field lets through */
		rc = wire_varint(at, avail, WIRE_LENGTH_BYTES_MAX, &n, &used);
		if (rc != WIRE_VARINT_OK) {
			return wire_fail(c, "field %u (%s) of %s: %s at byte %zu", f->fd->id, f->fd->name,
			    m->desc->name,
			    rc == WIRE_VARINT_TRUNCATED ? "truncated length prefix"
			                                : "length prefix longer than 5 bytes",
			    wire_off(c, at));
		}
		if (n > avail - used) {
			return wire_fail(c,
			    "field %u (%s) of %s: length %llu runs past the end of the message (%zu bytes left)",
			    f->fd->id, f->fd->name, m->desc->name, (unsigned long long) n, avail - used);
		}
		f->data = at + used;
		f->size = (size_t) n;
		break;
	}
	f->end = f->data + f->size;
	return PW_OK;
}

/* Reads the key at `at`, identifies the field and finds its extent. */
static pw_status
wire_read_field(wire_ctx *c, const wire_msg *m, const uint8_t *at, wire_field *f)
{
	size_t avail = (size_t) (m->p + m->len - at);
	size_t used = 0;
	uint64_t key = 0;
	unsigned expect;
	wire_varint_rc rc;

	memset(f, 0, sizeof(*f));
	f->key = at;
	rc = wire_varint(at, avail, WIRE_KEY_BYTES_MAX, &key, &used);
	if (rc != WIRE_VARINT_OK) {
		return wire_fail(c, "%s: %s at byte %zu", m->desc->name,
		    rc == WIRE_VARINT_TRUNCATED ? "truncated field key" : "field key longer than 5 bytes",
		    wire_off(c, at));
	}
	f->number = key >> 3;
	f->wt = (unsigned) (key & 7);
	if (f->number == 0) {
		return wire_fail(c, "field 0 of %s: field number 0 is invalid (byte %zu)", m->desc->name,
		    wire_off(c, at));
	}
	if (f->wt == 3 || f->wt == 4) {
		return wire_fail(c, "field %llu of %s: wire type %u (group) is not supported",
		    (unsigned long long) f->number, m->desc->name, f->wt);
	}
	if (f->wt == 6 || f->wt == 7) {
		return wire_fail(c, "field %llu of %s: invalid wire type %u",
		    (unsigned long long) f->number, m->desc->name, f->wt);
	}
	f->fd = wire_lookup(m->desc, f->number);
	if (f->fd == NULL) {
		return wire_fail(c, "field %llu of %s: unknown field (byte %zu)",
		    (unsigned long long) f->number, m->desc->name, wire_off(c, at));
	}
	f->index = (unsigned) (f->fd - m->desc->fields);
	expect = wire_type_of(f->fd->type);
	if (f->wt != expect &&
	    !(f->wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED && wire_packable(f->fd))) {
		return wire_fail(c, "field %u (%s) of %s: wire type %u does not match its type %s (wire type %u)",
		    f->fd->id, f->fd->name, m->desc->name, f->wt, wire_type_name(f->fd->type), expect);
	}
	return wire_read_extent(c, m, f, at + used);
}

/* True when v is a value of the enum ed. A paywire.v1.Provider value is also
 * one when it is a row of the provider table (PW_PROVIDER_MAP): in a
 * production build those rows are exactly the wire enum's values other than
 * UNSPECIFIED (server/srv_wh.c asserts one way, tests/server_provider_test.c
 * the other), and the rows a test build adds (PW_PROVIDER_MAP_TEST) reach the
 * server the way a real provider does. */
static bool
wire_enum_value_known(const ProtobufCEnumDescriptor *ed, int v)
{
	if (ed == &paywire__v1__provider__descriptor && pw_provider_known((pw_provider) v)) {
		return true;
	}
	return protobuf_c_enum_descriptor_get_value(ed, v) != NULL;
}

/* Range of a varint for its declared type: protobuf-c keeps only the low 32
 * bits of an int32/uint32/enum, and reads any non-zero bool as true. */
static pw_status
wire_check_scalar(wire_ctx *c, const wire_msg *m, const ProtobufCFieldDescriptor *fd, uint64_t v)
{
	int64_t sv = (int64_t) v;
	const ProtobufCEnumDescriptor *ed;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM:
		if (sv < INT32_MIN || sv > INT32_MAX) {
			return wire_fail(c, "field %u (%s) of %s: value out of range for a 32-bit %s",
			    fd->id, fd->name, m->desc->name, wire_type_name(fd->type));
		}
		ed = fd->descriptor;
		if (fd->type == PROTOBUF_C_TYPE_ENUM && ed != NULL &&
		    !wire_enum_value_known(ed, (int) sv)) {
			return wire_fail(c, "field %u (%s) of %s: %lld is not a value of %s", fd->id,
			    fd->name, m->desc->name, (long long) sv, ed->name);
		}
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_SINT32:
		if (v > UINT32_MAX) {
			return wire_fail(c, "field %u (%s) of %s: value out of range for %s", fd->id,
			    fd->name, m->desc->name, wire_type_name(fd->type));
		}
		break;
	case PROTOBUF_C_TYPE_BOOL:
		if (v > 1) {
			return wire_fail(c, "field %u (%s) of %s: bool value %llu is not 0 or 1", fd->id,
			    fd->name, m->desc->name, (unsigned long long) v);
		}
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE: break;
	}
	return PW_OK;
}

/* A packed run: whole elements only, each in range. *count: elements. */
static pw_status
wire_check_packed(wire_ctx *c, const wire_msg *m, const wire_field *f, size_t *count)
{
	const ProtobufCFieldDescriptor *fd = f->fd;
	unsigned wt = wire_type_of(fd->type);
	size_t off = 0;
	pw_status rv;

	*count = 0;
	if (wt != PROTOBUF_C_WIRE_TYPE_VARINT) {
		size_t elem = wt == PROTOBUF_C_WIRE_TYPE_64BIT ? 8 : 4;
		if (f->size % elem != 0) {
			return wire_fail(c, "field %u (%s) of %s: packed length %zu is not a multiple of %zu",
			    fd->id, fd->name, m->desc->name, f->size, elem);
		}
		*count = f->size / elem;
		return PW_OK;
	}
	while (off < f->size) {
		uint64_t v = 0;
		size_t used = 0;
		wire_varint_rc vr = wire_varint(f->data + off, f->size - off, WIRE_VARINT_BYTES_MAX, &v, &used);
		if (vr != WIRE_VARINT_OK) {
			wire_field at = *f;
			at.data = f->data + off;
			return wire_varint_fail(c, m, &at, vr);
		}
		/* protobuf-c reads a packed bool as one byte each */
		if (fd->type == PROTOBUF_C_TYPE_BOOL && used != 1) {
			return wire_fail(c, "field %u (%s) of %s: packed bool of %zu bytes", fd->id,
			    fd->name, m->desc->name, used);
		}
		rv = wire_check_scalar(c, m, fd, v);
		if (rv != PW_OK) {
			return rv;
		}
		off += used;
		(*count)++;
	}
	return PW_OK;
}

static bool
wire_seen(const wire_msg *m, unsigned index)
{
	return (m->seen[index / 64] >> (index % 64) & 1u) != 0;
}

static void
wire_mark(wire_msg *m, unsigned index)
{
	m->seen[index / 64] |= UINT64_C(1) << (index % 64);
}

/* protobuf-c describes map<K,V> as a repeated message "<Name>Entry" with
 * exactly key = 1 and value = 2 (protoc-c's map_entry lowering). */
static bool
wire_is_map_entry(const ProtobufCMessageDescriptor *d)
{
	size_t n;

	if (d == NULL || d->n_fields != 2 || d->fields[0].id != 1 || d->fields[1].id != 2) {
		return false;
	}
	if (strcmp(d->fields[0].name, "key") != 0 || strcmp(d->fields[1].name, "value") != 0) {
		return false;
	}
	n = strlen(d->short_name);
	return n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0;
}

/* Singular twice, two oneof members; repeated counts. */
static pw_status
wire_check_presence(wire_ctx *c, wire_msg *m, const wire_field *f, size_t entries)
{
	const ProtobufCFieldDescriptor *fd = f->fd;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		m->repeated += entries;
		if (m->repeated > PW_WIRE_REPEATED_MAX) {
			return wire_fail(c, "%s: more than %d repeated/map entries (at field %u, %s)",
			    m->desc->name, PW_WIRE_REPEATED_MAX, fd->id, fd->name);
		}
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE && wire_seen(m, f->index) &&
		    wire_is_map_entry(fd->descriptor)) {
			m->maps_to_check = true;
		}
		wire_mark(m, f->index);
		return PW_OK;
	}
	if (wire_seen(m, f->index)) {
		return wire_fail(c, "field %u (%s) of %s: singular field appears more than once", fd->id,
		    fd->name, m->desc->name);
	}
	if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
		for (unsigned i = 0; i < m->desc->n_fields; i++) {
			const ProtobufCFieldDescriptor *o = &m->desc->fields[i];
			if (i != f->index && (o->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
			    o->quantifier_offset == fd->quantifier_offset && wire_seen(m, i)) {
				return wire_fail(c, "field %u (%s) of %s: another member of its oneof (%s) is already set",
				    fd->id, fd->name, m->desc->name, o->name);
			}
		}
	}
	wire_mark(m, f->index);
	return PW_OK;
}

static pw_status
wire_check_field(wire_ctx *c, wire_msg *m, const wire_field *f)
{
	const ProtobufCFieldDescriptor *fd = f->fd;
	size_t entries = 1;
	pw_status rv = PW_OK;

	if (f->wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED && wire_packable(fd)) {
		rv = wire_check_packed(c, m, f, &entries);
	} else if (f->wt == PROTOBUF_C_WIRE_TYPE_VARINT) {
		rv = wire_check_scalar(c, m, fd, f->value);
	} else if (fd->type == PROTOBUF_C_TYPE_STRING) {
		if (memchr(f->data, '\0', f->size) != NULL) {
			rv = wire_fail(c, "string field %s contains a NUL byte (field %u of %s)", fd->name,
			    fd->id, m->desc->name);
		} else if (!pw_utf8_valid((const char *) f->data, f->size)) {
			rv = wire_fail(c, "string field %s is not valid UTF-8 (field %u of %s)", fd->name,
			    fd->id, m->desc->name);
		}
	}
	if (rv != PW_OK) {
		return rv;
	}
	rv = wire_check_presence(c, m, f, entries);
	if (rv != PW_OK) {
		return rv;
	}
	if (fd->type != PROTOBUF_C_TYPE_MESSAGE) {
		return PW_OK;
	}
	if (m->depth >= PW_WIRE_DEPTH_MAX) {
		return wire_fail(c, "field %u (%s) of %s: nesting deeper than %d messages", fd->id,
		    fd->name, m->desc->name, PW_WIRE_DEPTH_MAX);
	}
	return wire_message(c, fd->descriptor, f->data, f->size, m->depth + 1);
}

/* ---- map keys ---- */

typedef struct wire_key {
	const uint8_t *bytes; /* LENGTH_PREFIXED key: its bytes */
	size_t size;          /* their count */
	uint64_t value;       /* numeric key: its value */
} wire_key;

/* The key of one (already validated) map entry; absent = default. */
static void
wire_entry_key(wire_ctx *c, const wire_field *entry, wire_key *k)
{
	wire_msg em;
	const uint8_t *at = entry->data;

	memset(k, 0, sizeof(*k));
	memset(&em, 0, sizeof(em));
	em.desc = entry->fd->descriptor;
	em.p = entry->data;
	em.len = entry->size;
	while (at < em.p + em.len) {
		wire_field f;
		pw_status rv = wire_read_field(c, &em, at, &f);
		PW_ASSERT(rv == PW_OK); /* validated by the first pass */
		if (f.number == 1) {
			k->bytes = f.data;
			k->size = f.size;
			k->value = f.value;
			if (f.wt == PROTOBUF_C_WIRE_TYPE_32BIT || f.wt == PROTOBUF_C_WIRE_TYPE_64BIT) {
				k->value = 0;
				for (size_t i = f.size; i-- > 0;) {
					k->value = k->value << 8 | f.data[i];
				}
			}
		}
		at = f.end;
	}
}

static bool
wire_key_equal(const ProtobufCFieldDescriptor *key_fd, const wire_key *a, const wire_key *b)
{
	if (wire_type_of(key_fd->type) == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
		return a->size == b->size && (a->size == 0 || memcmp(a->bytes, b->bytes, a->size) == 0);
	}
	return a->value == b->value;
}

/* A key twice in one map: protobuf would keep the last in silence (and a
 * webhook's "stripe-signature" twice is an ambiguity an attacker chooses). */
static pw_status
wire_check_map_keys(wire_ctx *c, const wire_msg *m)
{
	const uint8_t *at = m->p;

	while (at < m->p + m->len) {
		wire_field a;
		wire_key ka;
		const ProtobufCFieldDescriptor *key_fd;
		pw_status rv = wire_read_field(c, m, at, &a);
		PW_ASSERT(rv == PW_OK); /* validated by the first pass */
		at = a.end;
		if (a.fd->label != PROTOBUF_C_LABEL_REPEATED || a.fd->type != PROTOBUF_C_TYPE_MESSAGE ||
		    !wire_is_map_entry(a.fd->descriptor)) {
			continue;
		}
		key_fd = &((const ProtobufCMessageDescriptor *) a.fd->descriptor)->fields[0];
		wire_entry_key(c, &a, &ka);
		for (const uint8_t *bt = a.end; bt < m->p + m->len;) {
			wire_field b;
			wire_key kb;
			rv = wire_read_field(c, m, bt, &b);
			PW_ASSERT(rv == PW_OK);
			bt = b.end;
			if (b.fd != a.fd) {
				continue;
			}
			wire_entry_key(c, &b, &kb);
			if (wire_key_equal(key_fd, &ka, &kb)) {
				return wire_fail(c, "map field %s of %s: duplicate key (field %u, byte %zu)",
				    a.fd->name, m->desc->name, a.fd->id, wire_off(c, b.key));
			}
		}
	}
	return PW_OK;
}

/* ---- messages ---- */

static pw_status
wire_check_required(wire_ctx *c, const wire_msg *m)
{
	for (unsigned i = 0; i < m->desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &m->desc->fields[i];
		if (fd->label == PROTOBUF_C_LABEL_REQUIRED && fd->default_value == NULL &&
		    !wire_seen(m, i)) {
			return wire_fail(c, "field %u (%s) of %s: required field is missing", fd->id,
			    fd->name, m->desc->name);
		}
	}
	return PW_OK;
}

static pw_status
wire_message(wire_ctx *c, const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len,
    int depth)
{
	wire_msg m;
	const uint8_t *at = p;
	pw_status rv;

	PW_ASSERT(desc != NULL && desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
	PW_ASSERT(desc->n_fields <= PW_WIRE_FIELDS_MAX);
	memset(&m, 0, sizeof(m));
	m.desc = desc;
	m.p = p;
	m.len = len;
	m.depth = depth;
	while (at < p + len) {
		wire_field f;
		rv = wire_read_field(c, &m, at, &f);
		if (rv != PW_OK) {
			return rv;
		}
		rv = wire_check_field(c, &m, &f);
		if (rv != PW_OK) {
			return rv;
		}
		PW_ASSERT(f.end > at && f.end <= p + len);
		at = f.end;
	}
	rv = wire_check_required(c, &m);
	if (rv == PW_OK && m.maps_to_check) {
		rv = wire_check_map_keys(c, &m);
	}
	return rv;
}

pw_status
srv_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
    char *why, size_t why_size)
{
	static const uint8_t empty[1] = {0};
	wire_ctx c;

	PW_ASSERT(desc != NULL && desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
	PW_ASSERT(buf != NULL || len == 0);
	PW_ASSERT(why != NULL || why_size == 0);
	if (why_size > 0) {
		why[0] = '\0';
	}
	if (buf == NULL) {
		buf = empty; /* pointer arithmetic on NULL is undefined, even + 0 */
	}
	c.base = buf;
	c.why = why;
	c.why_size = why_size;
	return wire_message(&c, desc, buf, len, 1);
}
