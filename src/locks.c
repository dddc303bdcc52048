/* The library's locks (locks.h lists them, who takes them and their
 * order), and the one fork handler that takes them all. Registering it
 * in a constructor loads and reads nothing. */
#include "locks.h"

#include "state.h"

#define AMP_LOCK_DEFINE(name) pthread_mutex_t amp_lock_##name = PTHREAD_MUTEX_INITIALIZER;
AMP_LOCKS(AMP_LOCK_DEFINE)
#undef AMP_LOCK_DEFINE

static void take_all(void)
{
#define TAKE(name)                                                                       \
    pthread_mutex_lock(&amp_lock_##name);                                                \
    if (&amp_lock_##name == &amp_lock_state)                                             \
        amp_ratelimit_fork_prepare();
    AMP_LOCKS(TAKE)
#undef TAKE
}

/* In the parent and the child alike (the child's pid is asked anew). */
static void release_all(void)
{
#define RELEASE(name)                                                                    \
    if (&amp_lock_##name == &amp_lock_state)                                             \
        amp_ratelimit_fork_release();                                                    \
    pthread_mutex_unlock(&amp_lock_##name);
    AMP_LOCKS(RELEASE)
#undef RELEASE
}

/* The child also leaves its parent's unadded counts to the parent, while
 * the tally lock is still held (no counter is being made), asks its
 * own pid anew for the state file, and has no dlopen of another thread
 * under way (real.c). */
static void child_release_all(void)
{
    amp_state_fork_child();
    amp_tally_fork_child();
    amp_real_fork_child();
    release_all();
}

__attribute__((constructor)) static void register_fork_handler(void)
{
    pthread_atfork(take_all, release_all, child_release_all);
}
