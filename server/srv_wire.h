/*
 * srv_wire.h - the wire validator: checks the raw bytes of a protobuf message
 * against protobuf-c's descriptors BEFORE they are unpacked (DESIGN.md "The
 * RPC contract"; docs/WIRE.md has the rules and why).
 *
 * OWNS
 * Nothing but the rules. protobuf-c accepts a lot that paywire must not: it
 * keeps unknown fields in silence, truncates a string at its first NUL,
 * truncates a uint32 varint to its low 32 bits, lets the last of two
 * singular fields win and merges repeated sub-messages. srv_wire_check
 * refuses all of these with a precise reason, so what the server unpacks is
 * exactly what the caller meant.
 *
 * THREADS
 * Pure and reentrant: any thread, concurrently (nng callbacks included).
 *
 * LIFETIMES AND LIMITS
 * No allocation; stack use is bounded by PW_WIRE_DEPTH_MAX nested frames of
 * a few hundred bytes. Work is linear in len for one pass, plus a pairwise key
 * comparison within each map field (at most PW_WIRE_REPEATED_MAX entries).
 * Limits: PW_WIRE_REPEATED_MAX entries over all repeated/map fields of one
 * message; PW_WIRE_DEPTH_MAX nested messages (the top level is depth 1);
 * descriptors of at most PW_WIRE_FIELDS_MAX fields (a programmer error
 * otherwise: PW_ASSERT). The caller bounds len (NNG_OPT_RECVMAXSZ,
 * PW_RPC_MSG_BYTES_MAX).
 */
#ifndef SRV_WIRE_H
#define SRV_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "pw_common.h"

/* A why buffer of this size holds every reason srv_wire_check writes. */
#define SRV_WIRE_WHY_BYTES 256

/* Validates buf[0..len) as one serialized message of type desc (the whole
 * buffer is the message: no trailing bytes). Refuses, in the order met:
 * - a field key that is truncated or longer than 5 bytes; field number 0;
 *   wire types 3/4 (groups), 6 and 7; a field number desc does not declare
 *   (in the top message or any nested one, map entries included);
 * - a wire type that does not match the declared type (repeated scalar
 *   numerics may also come packed, wire type 2);
 * - a varint that is truncated, longer than 10 bytes or over 64 bits; a value
 *   out of range of its declared type (int32/sint32/uint32/enum, bool not 0/1):
 *   protobuf-c would truncate it in silence;
 * - a length prefix that is truncated, longer than 5 bytes, or runs past the
 *   end; a fixed32/fixed64 cut short; a packed run that does not divide into
 *   whole elements;
 * - a string with an embedded NUL byte or invalid UTF-8 (bytes may hold NULs);
 * - a singular field twice; two members of one oneof;
 * - more than PW_WIRE_REPEATED_MAX entries over the repeated fields of one
 *   message; a key twice in one map field;
 * - nesting deeper than PW_WIRE_DEPTH_MAX.
 * Returns PW_OK, or PW_INVALID_ARGUMENT with a NUL-terminated reason in why
 * (truncated to why_size; why may be NULL when why_size is 0) naming the field
 * number, name and message, e.g. "field 7 of paywire.v1.CreateSessionRequest:
 * unknown field" or "string field customer_name contains a NUL byte (field 7
 * of paywire.v1.CreateSessionRequest)". The reason never quotes field
 * contents, so it cannot leak a secret (api_key, webhook bodies).
 * PW_OK guarantees protobuf_c_message_unpack(desc, ...) succeeds on the same
 * bytes (allocation failures aside) and loses nothing.
 * PW_ASSERT: desc is a message descriptor; buf non-NULL unless len is 0. */
pw_status srv_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
    char *why, size_t why_size) PW_WUR;

#endif
