/* A short-lived thread of our own (see aside.h). */
#define _GNU_SOURCE
#include "aside.h"

#include <pthread.h>
#include <signal.h>

struct work {
    void (*fn)(void *);
    void *arg;
};

static void *run(void *p)
{
    struct work *w = p;

    w->fn(w->arg);
    return NULL;
}

int amp_aside_run(void (*fn)(void *), void *arg)
{
    struct work w = { fn, arg };
    sigset_t all, old;
    pthread_t t;
    int cancel;

    /* No signal of the application's is handled on our thread (its
     * handlers may expect one of its own: the thread starts with all
     * blocked), nor on the caller while it waits (a handler that jumps
     * away would leave our thread working on the caller's stack); and the
     * caller is not cancelled while it waits. glibc's sigprocmask is
     * pthread_sigmask, per thread, under an older symbol version (one less
     * for the loader to check in every process). */
    sigfillset(&all);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
    sigprocmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t, NULL, run, &w);
    if (rc == 0)
        pthread_join(t, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    pthread_setcancelstate(cancel, NULL);
    return rc == 0 ? 0 : -1;
}
