/* libcurl bound by name. A program that opens libcurl itself and takes its
 * functions with dlsym (Python's ctypes, Ruby's ffi behind ethon and
 * typhoeus, LuaJIT, Node's FFI) calls them straight, past every
 * interposed symbol. So the look-up itself is answered: for the functions
 * ampshim stands in for, it hands out its own. Such a function cannot
 * learn its flavour from its caller (the FFI library's trampoline calls
 * every libcurl alike), so each flavour gets a set of its own, bound to the
 * libcurl that defined the name looked up. */
#define _GNU_SOURCE
#include "ffi.h"
#include "global.h"

#include <dlfcn.h>
#include <stdarg.h>

#include "easy.h"
#include "hooked.h"
#include "log.h"
#include "multi.h"
#include "real.h"

#define CAT(a, b) CAT_(a, b)
#define CAT_(a, b) a##b

/* The functions of flavour I: the hooks of hooks.c with the flavour fixed. */
#define SET_RET(ret, name, params, args)                                                 \
    static ret CAT(name##_, I) params                                                    \
    {                                                                                    \
        return amp_##name(amp_real_flavour(I), 0, AMP_ARGS args);                        \
    }
#define SET_VOID(name, params, args)                                                     \
    static void CAT(name##_, I) params                                                   \
    {                                                                                    \
        amp_##name(amp_real_flavour(I), 0, AMP_ARGS args);                               \
    }
#define SET_VA(ret, name, T1, T2)                                                        \
    static ret CAT(name##_, I)(T1 a, T2 b, ...)                                          \
    {                                                                                    \
        va_list ap;                                                                      \
        va_start(ap, b);                                                                 \
        ret rc = amp_##name(amp_real_flavour(I), 0, a, b, ap);                           \
        va_end(ap);                                                                      \
        return rc;                                                                       \
    }
#define SET_VA1(ret, name, T1, T2, T3)                                                   \
    static ret CAT(name##_, I)(T1 a, T2 b, ...)                                          \
    {                                                                                    \
        va_list ap;                                                                      \
        va_start(ap, b);                                                                 \
        T3 arg = va_arg(ap, T3);                                                         \
        va_end(ap);                                                                      \
        return amp_##name(amp_real_flavour(I), 0, a, b, arg);                            \
    }
#define I 0
AMP_HOOKED(SET_RET, SET_VOID, SET_VA, SET_VA1)
#undef I
#define I 1
AMP_HOOKED(SET_RET, SET_VOID, SET_VA, SET_VA1)
#undef I
#define I 2
AMP_HOOKED(SET_RET, SET_VOID, SET_VA, SET_VA1)
#undef I
#define I 3
AMP_HOOKED(SET_RET, SET_VOID, SET_VA, SET_VA1)
#undef I
_Static_assert(AMP_MAX_FLAVOURS == 4, "one set of functions per flavour");

typedef void (*fn)(void);

#define NAME(ret, name, ...) "curl_" #name,
#define NAME_VOID(name, ...) "curl_" #name,
static const char *const names[] = { AMP_HOOKED(NAME, NAME_VOID, NAME, NAME) };
#define NWRAPPED (sizeof(names) / sizeof(names[0]))

#define ENTRY(ret, name, ...) (fn)CAT(name##_, I),
#define ENTRY_VOID(name, ...) (fn)CAT(name##_, I),
/* In the order of names[]. */
static const fn sets[AMP_MAX_FLAVOURS][NWRAPPED] = {
#define I 0
    { AMP_HOOKED(ENTRY, ENTRY_VOID, ENTRY, ENTRY) },
#undef I
#define I 1
    { AMP_HOOKED(ENTRY, ENTRY_VOID, ENTRY, ENTRY) },
#undef I
#define I 2
    { AMP_HOOKED(ENTRY, ENTRY_VOID, ENTRY, ENTRY) },
#undef I
#define I 3
    { AMP_HOOKED(ENTRY, ENTRY_VOID, ENTRY, ENTRY) },
#undef I
};

int amp_ffi_wrapped(const char *name)
{
    for (size_t i = 0; i < NWRAPPED; i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i + 1;
    return 0;
}

void *amp_ffi_dlsym(void *handle, const char *name, const char *version, int which,
                    const void *caller)
{
    /* RTLD_NEXT taken as "after the preload", which is where the caller
     * would find libcurl too unless it came before us. */
    void *p = handle == RTLD_NEXT ? amp_real_next(name, version)
              : version           ? amp_real_dlvsym(handle, name, version)
                                  : amp_real_dlsym(handle, name);
    int index;
    Dl_info def, from;

    /* Our own look-ups, and our exported hooks (which find their flavour
     * from their caller), stay as they are. */
    if (!p || amp_real_is_ours(p) || amp_real_is_ours(caller))
        return p;
    int known_caller = dladdr(caller, &from) && from.dli_fbase;
    /* libcurl looking itself up keeps its own functions. */
    if (known_caller && dladdr(p, &def) && def.dli_fbase == from.dli_fbase)
        return p;
    if (!amp_real_flavour_at(p, &index))
        return p;
    amp_debug("%s looked up by name%s%s: ampshim's, for %s", name, known_caller ? " from " : "",
              known_caller ? from.dli_fname : "", amp_real_flavour(index)->name);
    return (void *)sets[index][which];
}
