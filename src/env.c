/* The environment and the program's name as the process was started
 * (env.h). The constructor runs in every process the library is preloaded
 * into, most of which never call curl: it copies a few strings into memory
 * of its own with plain loops (no libc call, so no import is bound and no
 * file is touched: make bench, target e), and decides nothing. */
#define _GNU_SOURCE
#include "env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#define MAX_KEPT 32

/* "NAME=value" copies, in store; written once, by the constructor, before
 * any thread of the application's can exist. */
static char store[8192];
static const char *kept[MAX_KEPT];
static int nkept;
static char program[256];
static int captured;

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

/* glibc calls a shared object's constructors with main's arguments and
 * environment. */
__attribute__((constructor)) static void capture(int argc, char **argv, char **envp)
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
    for (char **e = envp; e && *e && nkept < MAX_KEPT; e++) {
        const char *copy;
        if (!wanted(*e))
            continue;
        copy = keep(*e, &used);
        if (copy)
            kept[nkept++] = copy;
    }
    captured = 1;
}

/* kept[i] holds name's value: its text after "name=". */
static const char *value_of(int i, const char *name)
{
    const char *k = kept[i];

    while (*name && *k == *name)
        k++, name++;
    return !*name && *k == '=' ? k + 1 : NULL;
}

int amp_env_set(const char *name)
{
    for (int i = 0; i < nkept; i++)
        if (value_of(i, name))
            return 1;
    return !captured;
}

const char *amp_env(const char *name)
{
    const char *v = secure_getenv(name);

    if (v || !captured || getauxval(AT_SECURE))
        return v;
    for (int i = 0; i < nkept; i++) {
        v = value_of(i, name);
        if (v)
            return v;
    }
    return NULL;
}

const char *amp_env_program(void)
{
    return captured && program[0] ? program : program_invocation_short_name;
}
