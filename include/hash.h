/* uthash as the library uses it: running out of memory never ends the
 * host process (uthash's default is exit()); the add is dropped instead
 * and the caller checks for it. */
#ifndef AMPSHIM_HASH_H
#define AMPSHIM_HASH_H

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) (amp_hash_oom = 1)
extern __thread int amp_hash_oom;

#include <uthash.h>

#endif
