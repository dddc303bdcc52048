/* Every lock of the library, in one place (socket_wrapper's SWRAP_LOCK_ALL
 * is the model). They are listed in the one order in which they may nest:
 * a thread holding one may take only those below it. None is ever held
 * across a call into the dynamic loader (dlopen, dlsym, dladdr,
 * dl_iterate_phdr): a thread inside dlopen holds the loader's own lock and
 * may call curl from a constructor, so the order would invert. Around
 * fork() all are taken, in this order, and let go in the parent and the
 * child (locks.c): the child has only the forking thread and must not
 * inherit a lock another thread held. The child also forgets the counts
 * its parent had not added to the counters file yet (tally.h): they are
 * the parent's to add, once.
 *
 *   settings   settings.c     loading the config on the first curl call, and again
 *                             when its files change; a reference to the current
 *                             config taken (a handle moving to it, not per transfer)
 *   libconfig  libconfig_dl.c publishing libconfig's functions, once
 *   state      ratelimit.c    opening the shared rate-limit state, once; under it
 *                             (the one nesting) the state's own lock,
 *                             struct amp_state.lock (state.c), which in turn is
 *                             the only one held across flock() on the state file
 *   callers    real.c         publishing which libcurl a caller binds to
 *   handles    handles.c      the table CURL* -> entry, for the look-up only; the
 *                             entries a reset set aside
 *   tally      tally.c        making a route's counters, once (never around file I/O)
 *   cookies    cookies.c      the cookies filed through a route, and which route
 *
 * The hot path takes none of them: a handle found again, a caller's flavour,
 * a quiet rate-limit state and the plain-http relay's sockets (confine.c)
 * are all read without a lock. */
#ifndef AMPSHIM_LOCKS_H
#define AMPSHIM_LOCKS_H

#include <pthread.h>

#define AMP_LOCKS(X) X(settings) X(libconfig) X(state) X(callers) X(handles) X(tally) X(cookies)

#define AMP_LOCK_DECLARE(name) extern pthread_mutex_t amp_lock_##name;
AMP_LOCKS(AMP_LOCK_DECLARE)
#undef AMP_LOCK_DECLARE

/* What the fork handler does beyond the locks, declared here so that the
 * ground floor names its callers' parts without including their headers:
 * around fork(), with amp_lock_state held, the state's own lock
 * (ratelimit.c); in the child, with amp_lock_tally held, the parent's
 * unadded counts left to it (tally.c), and with amp_lock_callers held,
 * no dlopen of another thread under way (real.c). */
void amp_ratelimit_fork_prepare(void);
void amp_ratelimit_fork_release(void);
void amp_tally_fork_child(void);
void amp_real_fork_child(void);

#endif
