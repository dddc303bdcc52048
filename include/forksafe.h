/* A lock of the library, taken before fork() and let go after it in the
 * parent and the child: the child has only the forking thread, and must
 * not inherit a lock some other thread held (socket_wrapper's way).
 * Registering in a constructor loads and reads nothing. */
#ifndef AMPSHIM_FORKSAFE_H
#define AMPSHIM_FORKSAFE_H

#include <pthread.h>

#define AMP_FORK_SAFE(m)                                                                 \
    static void m##_fork_prepare(void) { pthread_mutex_lock(&m); }                       \
    static void m##_fork_release(void) { pthread_mutex_unlock(&m); }                     \
    __attribute__((constructor)) static void m##_fork_register(void)                     \
    {                                                                                    \
        pthread_atfork(m##_fork_prepare, m##_fork_release, m##_fork_release);            \
    }

#endif
