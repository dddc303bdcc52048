/* The shared retry state: which routes Ampersand has rate limited or
 * locked out, and until when, in one file shared by every process of the
 * user (retrofitted programs are often short-lived). Plain POSIX: used by
 * the library and by `ampshim state|clear`.
 *
 * File layout (little-endian, fixed width, version 1; tests/unit/test_state.c
 * pins it byte for byte):
 *   header, 64 bytes:  magic "AMPSHIMS" | u32 version | u32 record size |
 *                      u32 record count | u32 0 | u64 generation | 32 bytes 0
 *   records, 512 bytes each:
 *      0 u64 key | 8 i64 retry_at | 16 i64 recorded_at | 24 i64 hold_until |
 *     32 u32 flags | 36 u32 0 | 40 proxy[128] | 168 project[40] | 208 id[72] |
 *    280 group[72] | 352 reason[96] | 448 route[64]
 *   (strings NUL-padded, each holding at least one NUL). route, the base URL
 *   of the route that got the 429 (cut at 63 bytes), came later in the same
 *   version: it was zero before, and a reader of before ignores it. */
#ifndef AMPSHIM_STATE_H
#define AMPSHIM_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "block.h" /* the record a block is kept as, and its functions */

#define AMP_STATE_MAGIC "AMPSHIMS"
#define AMP_STATE_VERSION 1u
#define AMP_STATE_HEADER 64u
#define AMP_STATE_MAX_RECORDS 4096u

/* amp_state_find() sees another process's change within this long: the
 * file is not looked at again sooner, so a routed transfer costs no
 * system call. (In a block the proxy refuses calls itself; this only
 * spares them.) amp_state_list() always reads the file. */
#define AMP_STATE_RECHECK_MS 50

struct amp_state;

/* The default path: $XDG_RUNTIME_DIR/ampshim/state, else
 * /tmp/ampshim-<uid>/state; when that folder is not a private one of the
 * user's (another user made it), the first of /tmp/ampshim-<uid>.1, .2, ...
 * up to AMP_STATE_TMP_TRIES that is, or can be made (the /tmp folder is
 * made here). 0; 1 when /tmp/ampshim-<uid> was passed over (said once,
 * through amp_state_warnf); -1 when there is no place. The library and the
 * launcher both find it so, and agree. */
#define AMP_STATE_TMP_TRIES 64
int amp_state_default_path(char *buf, size_t len);

/* Opens (creating 0700 folder and 0600 file as needed) the state at path.
 * A symlink is refused, never followed; so is a file or folder owned by
 * someone else. NULL with a sentence in err on failure. */
/* In a forked child: its pid is asked anew. Called by the one fork handler
 * of the program: the library's (locks.c), or state_fork.c's in the
 * launcher and the unit tests. */
void amp_state_fork_child(void);

struct amp_state *amp_state_open(const char *path, char *err, size_t errlen);
void amp_state_close(struct amp_state *st);

/* The active block for key, if any: 1 and *out, else 0. Re-reads the file
 * only when another process has changed it, looking at most every
 * AMP_STATE_RECHECK_MS. */
int amp_state_find(struct amp_state *st, uint64_t key, int64_t now, struct amp_block *out);

/* 1 when nothing is recorded at all, as last read and not due to be read
 * again yet at ms (the coarse clock's millisecond, clock.h, as the caller
 * read it): amp_state_find would find nothing, for any key. A few
 * instructions; 0 says only "ask". */
int amp_state_quiet(struct amp_state *st, int64_t ms);

/* Records b (replacing any record with its key), under flock. 0 or -1. */
int amp_state_record(struct amp_state *st, const struct amp_block *b);

/* Every record still active at now; *out is malloc'd. 0 or -1. */
int amp_state_list(struct amp_state *st, int64_t now, struct amp_block **out, size_t *n);

/* Removes the records for which match says 1 (all when match is NULL);
 * *removed says how many. 0 or -1. */
int amp_state_clear(struct amp_state *st, int (*match)(const struct amp_block *, void *),
                    void *arg, size_t *removed);

/* Around fork(): the state's lock taken before, let go after (in parent
 * and child), so a child never inherits it held. */
void amp_state_fork_prepare(struct amp_state *st);
void amp_state_fork_release(struct amp_state *st);

/* Where a warning about the file went (set aside, refused): the library
 * logs it, the launcher prints it. */
void amp_state_set_warn(void (*warn)(const char *msg));
void amp_state_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A file of this user's beside the state (created 0600 in a 0700 folder,
 * as the state is), opened read-write: never a symlink, a file of someone
 * else's or one with another link. The descriptor, or -1 and err. */
int amp_state_private_file(const char *path, char *err, size_t errlen);

#endif
