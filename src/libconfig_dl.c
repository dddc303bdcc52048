/* The libconfig functions config.c calls, defined here (hidden) as
 * trampolines into a libconfig loaded with dlopen(RTLD_LOCAL) on first
 * need. In the launcher and the tests config.c links libconfig directly;
 * this file is only part of the preload library. */
#define _GNU_SOURCE
#include "libconfig_dl.h"

#include <dlfcn.h>
#include <libconfig.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "locks.h"
#include "real.h"

#define LIBCONFIG_FUNCTIONS(X)                                                            \
    X(void, config_init, (config_t * c), (c))                                            \
    X(void, config_destroy, (config_t * c), (c))                                         \
    X(int, config_read_string, (config_t * c, const char *s), (c, s))                    \
    X(void, config_set_include_dir, (config_t * c, const char *d), (c, d))               \
    X(config_setting_t *, config_lookup, (const config_t *c, const char *p), (c, p))     \
    X(config_setting_t *, config_setting_get_member, (const config_setting_t *s,         \
                                                      const char *n), (s, n))            \
    X(config_setting_t *, config_setting_get_elem, (const config_setting_t *s,           \
                                                    unsigned int i), (s, i))             \
    X(int, config_setting_length, (const config_setting_t *s), (s))                      \
    X(const char *, config_setting_get_string, (const config_setting_t *s), (s))         \
    X(long long, config_setting_get_int64, (const config_setting_t *s), (s))              \
    X(int, config_setting_get_bool, (const config_setting_t *s), (s))

#define DECLARE(ret, name, params, args) ret(*name) params;
static struct {
    LIBCONFIG_FUNCTIONS(DECLARE)
} fn;
#undef DECLARE

/* No lock (not even pthread_once) is held across dlopen: a thread inside
 * dlopen holds the loader's lock and may call curl from a constructor.
 * Two threads may both load it; dlopen makes that harmless. */
static atomic_int loaded;

int amp_libconfig_load(char *err, size_t errlen)
{
    const char *failure = NULL;

    if (atomic_load_explicit(&loaded, memory_order_acquire))
        return 0;
    void *lib = amp_real_dlopen("libconfig.so.9", RTLD_LAZY | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "cannot load libconfig.so.9 (install libconfig9)");
        return -1;
    }
    __typeof__(fn) bound;
#define BIND(ret, name, params, args)                                                    \
    *(void **)&bound.name = amp_real_dlsym(lib, #name);                                 \
    if (!*(void **)&bound.name)                                                          \
        failure = "libconfig.so.9 lacks " #name;
    LIBCONFIG_FUNCTIONS(BIND)
#undef BIND
    if (failure) {
        snprintf(err, errlen, "%s", failure);
        return -1;
    }
    pthread_mutex_lock(&amp_lock_libconfig);
    if (!atomic_load_explicit(&loaded, memory_order_relaxed)) {
        fn = bound; /* once: another thread may already be calling through it */
        atomic_store_explicit(&loaded, 1, memory_order_release);
    }
    pthread_mutex_unlock(&amp_lock_libconfig);
    return 0;
}

#define TRAMPOLINE(ret, name, params, args)                                              \
    ret name params { return fn.name args; }
LIBCONFIG_FUNCTIONS(TRAMPOLINE)
#undef TRAMPOLINE
