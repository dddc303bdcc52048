/* Preloaded by `make asan` right after libasan, in every process a test
 * starts (see tests/asan/run_asan.py). Two jobs:
 *
 * 1. Set the ASan runtime up before any other library's constructor, as an
 *    ASan-linked program does from its .preinit_array. A program built
 *    without ASan (Debian's curl, python3, git...) only gets it from
 *    libasan's own constructor, which runs late: before it, p11-kit's
 *    constructor (curl -> gnutls -> p11-kit) calls newlocale(), which
 *    write-locks glibc's __libc_setlocale_lock and calls malloc(); ASan then
 *    initialises itself inside that malloc, and its set-up calls dlerror()
 *    (after looking up swift_demangle), whose gettext read-locks the same
 *    lock: the read lock fails (EDEADLK, the writer is this thread), gettext
 *    unlocks it all the same, newlocale unlocks it again, and the lock is
 *    left corrupt, so curl's own setlocale() in main() waits forever.
 *    Linked with -z initfirst, this object's constructor runs before every
 *    other one (glibc runs the DF_1_INITFIRST object first), and it
 *    initialises ASan there, outside any lock.
 *
 * 2. Make a sanitizer error end the process with a status of its own (86):
 *    the harness runs with exitcode=0, so that a leak report (LSan, at exit)
 *    never changes a host program's exit status -- whether a leak counts is
 *    decided afterwards from the report (see run_asan.py) -- while an error
 *    still ends the process with a status no test expects.
 *
 * Built without any sanitizer; weak references, so that it is harmless in a
 * process without the ASan runtime. */
#include <unistd.h>

extern void __asan_init(void) __attribute__((weak));
extern void __asan_set_death_callback(void (*)(void)) __attribute__((weak));

static void died(void)
{
    _exit(86);
}

__attribute__((constructor)) static void asan_first(void)
{
    if (__asan_init)
        __asan_init();
    if (__asan_set_death_callback)
        __asan_set_death_callback(died);
}
