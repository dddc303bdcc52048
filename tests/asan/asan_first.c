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
 * 2. Make a sanitizer error end the process with a status of its own (86),
 *    and leave a note of it (AMPSHIM_TEST_DEATHS.<pid>): the harness runs with
 *    ASan's exitcode=0, so that a leak report (LSan, at exit) never changes a
 *    host program's exit status -- whether a leak counts is decided afterwards
 *    from the report (see run_asan.py) -- while an error still ends the process
 *    with a status no test expects. The note matters for UBSan: GCC 12's
 *    libubsan cannot write its reports to a file when libasan is in the
 *    process (its log_path is applied to libasan's copy of the report file,
 *    through symbol interposition), so its report is on the program's stderr,
 *    and the note, left when libubsan sets itself up for its first report
 *    (__ubsan_default_options below), is how the harness learns of it.
 *
 * Built without any sanitizer; weak references, so that it is harmless in a
 * process without the ASan runtime. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

extern void __asan_init(void) __attribute__((weak));
extern void __asan_set_death_callback(void (*)(void)) __attribute__((weak));

static char note[4096];
static size_t note_len;

/* The note: async-signal-safe calls only. */
static void leave_note(const char *said, size_t len)
{
    char path[4200], exe[1024], digits[16];
    int n = 0, pid = getpid();

    do
        digits[n++] = (char)('0' + pid % 10);
    while ((pid /= 10) && n < 15);
    memcpy(path, note, note_len);
    path[note_len] = '.';
    for (int i = 0; i < n; i++)
        path[note_len + 1 + i] = digits[n - 1 - i];
    path[note_len + 1 + n] = 0;
    ssize_t e = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    int fd = note_len ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    if (fd >= 0) {
        ssize_t w = write(fd, said, len);
        w = write(fd, exe, e > 0 ? (size_t)e : 0);
        w = write(fd, "\n", 1);
        (void)w;
        close(fd);
    }
}

/* ASan's Die(), after its report. */
static void died(void)
{
    static const char said[] = "ended by a sanitizer report: ";
    leave_note(said, sizeof(said) - 1);
    _exit(86);
}

/* libubsan sets itself up when it makes its first report, and reads these
 * then (its own weak definition is called through the PLT, so this one
 * wins): the report that follows is on the program's stderr. */
__attribute__((visibility("default"))) const char *__ubsan_default_options(void)
{
    static const char said[] = "UBSan report on the program's stderr: ";
    leave_note(said, sizeof(said) - 1);
    return "";
}

/* glibc hands constructors the environment; getenv() cannot be used this
 * early (libc's own initialisation, which sets environ, has not run yet). */
__attribute__((constructor)) static void asan_first(int argc, char **argv, char **envp)
{
    static const char var[] = "AMPSHIM_TEST_DEATHS=";
    const char *deaths = NULL;

    (void)argc, (void)argv;
    for (char **e = envp; e && *e && !deaths; e++)
        if (strncmp(*e, var, sizeof(var) - 1) == 0)
            deaths = *e + sizeof(var) - 1;

    if (__asan_init)
        __asan_init();
    if (deaths && strlen(deaths) < sizeof(note)) {
        note_len = strlen(deaths);
        memcpy(note, deaths, note_len);
    }
    if (__asan_set_death_callback)
        __asan_set_death_callback(died);
}
