// CDqlite: the parts of libdqlite's C API that swift-dqlite uses to embed a node (DqliteServer) and in
// tests. The client modules never link it: they speak the wire protocol.
#ifndef CDQLITE_SHIM_H
#define CDQLITE_SHIM_H

#include <dqlite.h>

// Arithmetic macros do not import into Swift; expose them as functions.
// Note: Debian's 1.11.1 headers still say 1.10.0 (upstream forgot the bump), so never gate features on it.
static inline int cdqlite_header_version_number(void) { return DQLITE_VERSION_NUMBER; }

#endif
