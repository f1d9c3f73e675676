/* paywire/version.h - version of libpaywire and of the wire contract. */
#ifndef PAYWIRE_VERSION_H
#define PAYWIRE_VERSION_H

#define PW_VERSION_MAJOR 0
#define PW_VERSION_MINOR 1
#define PW_VERSION_PATCH 0
#define PW_VERSION_STRING "0.1.0"
#define PW_WIRE_PACKAGE "paywire.v1"

#endif
