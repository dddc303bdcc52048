/* Work done aside: on a thread of its own, every signal blocked there and
 * nothing left changed on the caller's thread. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "aside.h"

struct seen {
    pid_t tid;
    int usr1_blocked, term_blocked;
    int ran;
};

static void look(void *arg)
{
    struct seen *s = arg;
    sigset_t now;

    s->tid = gettid();
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    s->usr1_blocked = sigismember(&now, SIGUSR1);
    s->term_blocked = sigismember(&now, SIGTERM);
    s->ran++;
}

static void runs_on_a_thread_of_its_own(void **state)
{
    (void)state;
    struct seen s = { 0, 0, 0, 0 };
    sigset_t before, after, usr2;
    int cancel;

    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, NULL);
    pthread_sigmask(SIG_SETMASK, NULL, &before);
    assert_int_equal(amp_aside_run(look, &s), 0);
    assert_int_equal(s.ran, 1);
    assert_int_not_equal(s.tid, gettid());
    assert_true(s.usr1_blocked && s.term_blocked);
    /* The caller's own mask and cancel state, as they were. */
    pthread_sigmask(SIG_SETMASK, NULL, &after);
    assert_true(sigismember(&after, SIGUSR2));
    assert_false(sigismember(&after, SIGUSR1));
    for (int sig = 1; sig < SIGRTMIN; sig++)
        assert_int_equal(sigismember(&after, sig), sigismember(&before, sig));
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &cancel);
    assert_int_equal(cancel, PTHREAD_CANCEL_ENABLE);
    pthread_sigmask(SIG_UNBLOCK, &usr2, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_on_a_thread_of_its_own),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
