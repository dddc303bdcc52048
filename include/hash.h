/* The hashes of the tree, written once.
 *
 * FNV-1a 64 (offset basis 14695981039346656037, prime 1099511628211): the
 * counters file's checksum, route and block keys, suffix look-ups. A file
 * format that stores one says so by its version (counts.h).
 *
 * uthash as the library uses it: running out of memory never ends the
 * host process (uthash's default is exit()); the add is dropped instead
 * and the caller checks for it. */
#ifndef AMPSHIM_HASH_H
#define AMPSHIM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define AMP_FNV1A64_BASIS 0xcbf29ce484222325ULL /* 14695981039346656037 */
#define AMP_FNV1A64_PRIME 0x100000001b3ULL

/* One more byte into h. */
static inline uint64_t amp_fnv1a_byte(uint64_t h, unsigned char c)
{
    return (h ^ c) * AMP_FNV1A64_PRIME;
}

/* n more bytes into h (h: AMP_FNV1A64_BASIS to start). */
static inline uint64_t amp_fnv1a_more(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p, *end = b + n;

    /* Eight at a time: the loop's own count and test are most of a byte's
     * cost (the counters file, some hundreds of bytes, is summed twice a
     * second by a busy process). */
    for (; end - b >= 8; b += 8) {
        h = amp_fnv1a_byte(h, b[0]);
        h = amp_fnv1a_byte(h, b[1]);
        h = amp_fnv1a_byte(h, b[2]);
        h = amp_fnv1a_byte(h, b[3]);
        h = amp_fnv1a_byte(h, b[4]);
        h = amp_fnv1a_byte(h, b[5]);
        h = amp_fnv1a_byte(h, b[6]);
        h = amp_fnv1a_byte(h, b[7]);
    }
    while (b < end)
        h = amp_fnv1a_byte(h, *b++);
    return h;
}

static inline uint64_t amp_fnv1a(const void *p, size_t n)
{
    return amp_fnv1a_more(AMP_FNV1A64_BASIS, p, n);
}

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) (amp_hash_oom = 1)
/* initial-exec: no __tls_get_addr where a handle's entry is added (as
 * handles.h's amp_handle_last; the library is loaded with the program). */
extern __thread __attribute__((tls_model("initial-exec"))) int amp_hash_oom;

#include <uthash.h>

#endif
