/* The environment and the program's name as the process was started
 * (env.h), as the first stage copied them (stage1_env.c) and handed them
 * over when it loaded the core. */
#define _GNU_SOURCE
#include "env.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/auxv.h>

/* Set once, when the first stage attaches the core, before any hooked
 * call reaches it. */
static _Atomic(const struct amp_env_captured *) captured;

void amp_env_attach(const struct amp_env_captured *c)
{
    atomic_store_explicit(&captured, c, memory_order_release);
}

/* var ("NAME=value") holds name's value: its text after "name=". */
static const char *value_of(const char *var, const char *name)
{
    while (*name && *var == *name)
        var++, name++;
    return !*name && *var == '=' ? var + 1 : NULL;
}

int amp_env_set(const char *name)
{
    const struct amp_env_captured *c = atomic_load_explicit(&captured, memory_order_acquire);

    if (!c)
        return 1;
    for (int i = 0; i < c->nvars; i++)
        if (value_of(c->vars[i], name))
            return 1;
    return 0;
}

const char *amp_env(const char *name)
{
    const struct amp_env_captured *c = atomic_load_explicit(&captured, memory_order_acquire);
    const char *v = secure_getenv(name);

    if (v || !c || getauxval(AT_SECURE))
        return v;
    for (int i = 0; i < c->nvars; i++) {
        v = value_of(c->vars[i], name);
        if (v)
            return v;
    }
    return NULL;
}

const char *amp_env_program(void)
{
    const struct amp_env_captured *c = atomic_load_explicit(&captured, memory_order_acquire);

    return c && c->program && c->program[0] ? c->program : program_invocation_short_name;
}
