/* The first stage's copy of the environment and the program's name at
 * start (env.h says why). It runs in every process the preload is loaded
 * into, most of which never call curl: it copies a few strings into memory
 * of its own with plain loops (no libc call, so no import is bound and no
 * file is touched: make bench, target e), and decides nothing. */
#define _GNU_SOURCE
#include "stage1.h"

#include <dlfcn.h>

#include <stddef.h>
#include <unistd.h>

#define MAX_KEPT 32

/* "NAME=value" copies, in store; written once, by the constructor, before
 * any thread of the application's can exist. */
static char store[8192];
static const char *kept[MAX_KEPT];
static char program[256];
static struct amp_env_captured env = { kept, 0, program };
/* The working directory at start, when the loader knows the first stage by
 * a relative path (the core is found beside it, after any chdir): from
 * LD_PRELOAD, `ld.so --preload` or /etc/ld.so.preload alike. */
static char cwd[4096];

/* The variables ampshim reads: its own, and what its defaults are made of. */
static int wanted(const char *e)
{
    static const char *const names[] = { "AMPSHIM_", "HOME=", "XDG_CONFIG_HOME=", "XDG_RUNTIME_DIR=" };

    if (*e != 'A' && *e != 'H' && *e != 'X') /* most are passed over at their first letter */
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *n = names[i], *p = e;
        while (*n && *p == *n)
            n++, p++;
        if (!*n)
            return 1;
    }
    return 0;
}

/* A copy of s into store from *used, or NULL when it does not fit. */
static const char *keep(const char *s, size_t *used)
{
    char *start = store + *used, *d = start;
    char *end = store + sizeof(store);

    while (d < end) {
        *d = *s;
        if (!*d)
            break;
        d++, s++;
    }
    if (d == end)
        return NULL;
    *used = (size_t)(d + 1 - store);
    return start;
}

/* How "LD_PRELOAD=..." names the first stage: 0 not at all (it came another
 * way, or under another name), 1 by an absolute path, 2 by a relative one. */
static int preload_names_us(const char *e)
{
    const char *p = e, *n = "LD_PRELOAD=";
    int found = 0;

    while (*n && *p == *n)
        n++, p++;
    if (*n)
        return 0;
    while (*p) {
        const char *entry = p, *base = p;
        while (*p && *p != ':' && *p != ' ') {
            if (*p == '/')
                base = p + 1;
            p++;
        }
        const char *m = "libampshim.so";
        const char *b = base;
        while (*m && b < p && *b == *m)
            m++, b++;
        if (!*m && b == p && entry < p)
            found = entry[0] == '/' ? 1 : 2;
        while (*p == ':' || *p == ' ')
            p++;
    }
    return found;
}

void amp_stage1_capture(int argc, char **argv, char **envp)
{
    size_t used = 0;

    if (argc > 0 && argv && argv[0]) {
        const char *base = argv[0];
        for (const char *p = argv[0]; *p; p++)
            if (*p == '/')
                base = p + 1;
        size_t i = 0;
        while (i + 1 < sizeof(program) && base[i])
            program[i] = base[i], i++;
        program[i] = '\0';
    }
    int named = 0;
    for (char **e = envp; e && *e; e++) {
        const char *copy;
        if (**e == 'L' && !named)
            named = preload_names_us(*e);
        if (env.nvars == MAX_KEPT || !wanted(*e))
            continue;
        copy = keep(*e, &used);
        if (copy)
            kept[env.nvars++] = copy;
    }
    /* Named by LD_PRELOAD (nearly always): no libc call, no import bound.
     * Otherwise the loader's own name for this object, however it was given. */
    Dl_info self;
    if (named == 2 || (named == 0 && dladdr((void *)amp_stage1_capture, &self) && self.dli_fname &&
                       self.dli_fname[0] != '/'))
        if (!getcwd(cwd, sizeof(cwd)))
            cwd[0] = '\0';
}

const struct amp_env_captured *amp_stage1_env(void)
{
    return &env;
}

const char *amp_stage1_start_dir(void)
{
    return cwd[0] ? cwd : NULL;
}
