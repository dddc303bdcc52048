/* The libconfig functions config.c calls, defined here (hidden) as
 * trampolines into a libconfig loaded with dlopen(RTLD_LOCAL) on first
 * need. In the launcher and the tests config.c links libconfig directly;
 * this file is only part of the preload library. */
#define _GNU_SOURCE
#include "libconfig_dl.h"

#include <dlfcn.h>
#include <libconfig.h>
#include <pthread.h>
#include <stdio.h>

#include "real.h"

#define LIBCONFIG_FUNCTIONS(X)                                                            \
    X(void, config_init, (config_t * c), (c))                                            \
    X(void, config_destroy, (config_t * c), (c))                                         \
    X(int, config_read, (config_t * c, FILE * f), (c, f))                                \
    X(config_setting_t *, config_lookup, (const config_t *c, const char *p), (c, p))     \
    X(config_setting_t *, config_setting_get_member, (const config_setting_t *s,         \
                                                      const char *n), (s, n))            \
    X(config_setting_t *, config_setting_get_elem, (const config_setting_t *s,           \
                                                    unsigned int i), (s, i))             \
    X(int, config_setting_length, (const config_setting_t *s), (s))                      \
    X(const char *, config_setting_get_string, (const config_setting_t *s), (s))         \
    X(long long, config_setting_get_int64, (const config_setting_t *s), (s))

#define DECLARE(ret, name, params, args) ret(*name) params;
static struct {
    LIBCONFIG_FUNCTIONS(DECLARE)
} fn;
#undef DECLARE

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *failure;

static void load(void)
{
    void *lib = amp_real_dlopen("libconfig.so.9", RTLD_LAZY | RTLD_LOCAL);

    if (!lib) {
        failure = "cannot load libconfig.so.9 (install libconfig9)";
        return;
    }
#define BIND(ret, name, params, args)                                                    \
    if (!(*(void **)&fn.name = dlsym(lib, #name)))                                       \
        failure = "libconfig.so.9 lacks " #name;
    LIBCONFIG_FUNCTIONS(BIND)
#undef BIND
}

int amp_libconfig_load(char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (failure)
        snprintf(err, errlen, "%s", failure);
    return failure ? -1 : 0;
}

#define TRAMPOLINE(ret, name, params, args)                                              \
    ret name params { return fn.name args; }
LIBCONFIG_FUNCTIONS(TRAMPOLINE)
#undef TRAMPOLINE
