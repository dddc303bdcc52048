/* The fork handler of the programs other than the library that use the
 * state file (the launcher, the unit tests): a forked child asks its pid
 * anew (state.c). The library has one fork handler for all of its state,
 * locks.c's, and does not link this file. */
#include <pthread.h>

#include "state.h"

__attribute__((constructor)) static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, amp_state_fork_child);
}
