/* The core's entries, each one a line into the logic (easy.c, multi.c,
 * ffi.c), which calls the real function (real.c). The first stage exports
 * the symbols and reaches these by tail jumps (stage1.h); the core exports
 * nothing but amp_core_attach_2 (AMP_CORE_ATTACH), which hands them over. The libcurl flavour a
 * call is for is the one the calling code binds to, found from its
 * address. */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "curlapi.h" /* with CURL_DISABLE_TYPECHECK: curl_easy_setopt is no macro */
#include "easy.h"
#include "ffi.h"
#include "global.h"
#include "hooked.h"
#include "multi.h"
#include "real.h"
#include "stage1.h"

#define CALLER __builtin_return_address(0)
/* The flavour and whether the caller is libcurl itself, for the calls
 * below: libcurl's calls to itself (Debian's curl_easy_perform drives the
 * multi interface through its exported functions) go straight to it. */
#define FLAVOUR                                                                          \
    int internal;                                                                        \
    const struct amp_curl *c = amp_real_curl(CALLER, &internal)

/* libcurl's curl_easy_perform calls the multi functions through their
 * exported names (3 a transfer): a call from the code of the first libcurl
 * (real.h) goes straight back to it, a tail call before anything else is
 * asked. In a process with one libcurl (amp_real_only, which holds only
 * once that libcurl's code is known), any other caller is the application,
 * and that libcurl the flavour it binds to: no look-up of who calls. The
 * rest is the _slow function, handed the caller's address (taken in the
 * hook, where the return address is the caller's), so that the hook itself
 * needs no frame. */
#define RET(ret, name, params, args)                                                    \
    __attribute__((noinline)) static ret name##_slow(const void *caller, AMP_ARGS params) \
    {                                                                                    \
        int internal;                                                                    \
        const struct amp_curl *c = amp_real_curl(caller, &internal);                     \
        amp_real_single_check(); /* the next call may take the short way */             \
        if (c && internal)                                                               \
            return c->name(AMP_ARGS args);                                               \
        return amp_##name(c, internal, AMP_ARGS args);                                   \
    }                                                                                    \
    static ret hook_##name params                                                        \
    {                                                                                    \
        const struct amp_curl *self = amp_real_from_inside(CALLER), *only;              \
        if (self)                                                                        \
            return self->name(AMP_ARGS args);                                            \
        only = amp_real_only();                                                          \
        if (only)                                                                        \
            return amp_##name(only, 0, AMP_ARGS args);                                   \
        return name##_slow(CALLER, AMP_ARGS args);                                       \
    }
#define VOID(name, params, args)                                                         \
    static void hook_##name params                                                       \
    {                                                                                    \
        FLAVOUR;                                                                         \
        if (c && internal)                                                               \
            c->name(AMP_ARGS args);                                                      \
        else                                                                             \
            amp_##name(c, internal, AMP_ARGS args);                                      \
    }
/* The one VA is curl_easy_setopt, called before every transfer with
 * CURLOPT_URL, mostly the URL the handle went to last (transfer.c hands
 * libcurl our proxy URL again then). Its third argument is taken as a named
 * one, as curl_easy_getinfo's (VA1, below: only the first stage's jump
 * reaches it, and the registers are those of the variadic call): every
 * setopt argument is one long, pointer, function pointer or curl_off_t, a
 * whole integer register on x86_64 and aarch64, read whole as a long (the
 * bits libcurl's va_arg reads). In a process with one libcurl, a call from
 * outside it (so not libcurl's own, internal) is for that libcurl: a
 * CURLOPT_URL goes to amp_easy_set_url, any other option to
 * amp_easy_setopt_word, without asking who calls, without a va_list,
 * without a frame, as a tail call (a program making a handle per request
 * sets a dozen options on each). The rest, where the caller matters, is
 * the _slow function, handed the caller's address. */
_Static_assert(sizeof(long) == sizeof(void *) && sizeof(long) == sizeof(curl_off_t),
               "a setopt argument is one long");
#define VA(ret, name, T1, T2)                                                            \
    __attribute__((noinline)) static ret name##_slow(T1 a, T2 b, long arg, const void *caller) \
    {                                                                                    \
        int internal;                                                                    \
        const struct amp_curl *c = amp_real_curl(caller, &internal);                     \
        return amp_##name##_word(c, internal, a, b, arg);                                \
    }                                                                                    \
    static ret hook_##name(T1 a, T2 b, long arg)                                         \
    {                                                                                    \
        const struct amp_curl *only = amp_real_only();                                   \
        if (only && !amp_real_from_inside(CALLER)) {                                     \
            if (b == CURLOPT_URL)                                                        \
                return amp_easy_set_url(only, a, (const char *)arg);                     \
            return amp_##name##_word(only, 0, a, b, arg);                                \
        }                                                                                \
        return name##_slow(a, b, arg, CALLER);                                           \
    }
/* The one VA1 is curl_easy_getinfo, asked several times a transfer: in a
 * process with one libcurl, every question but the URLs (easy.h) goes
 * straight to it, without asking who calls, as a tail call. The hook takes
 * its third argument as a named one, not `...`: it is reached only by the
 * first stage's jump (stage1_hooks.c) from the application's variadic
 * call, and on the two architectures the first stage is written for
 * (x86_64, aarch64 Linux) a variadic call passes its first three integer
 * or pointer arguments in the registers a plain call does. Without va_start
 * the common case needs no frame. The rest, where the caller matters, is
 * the _slow function, handed the caller's address (taken here, where the
 * application's return address is). */
#define VA1(ret, name, T1, T2, T3)                                                       \
    __attribute__((noinline)) static ret name##_slow(T1 a, T2 b, T3 arg, const void *caller) \
    {                                                                                    \
        int internal;                                                                    \
        const struct amp_curl *c;                                                        \
        if (b != CURLINFO_EFFECTIVE_URL && b != CURLINFO_REDIRECT_URL) {                 \
            c = amp_real_single_check();                                                 \
            if (c)                                                                       \
                return c->name(a, b, arg);                                               \
        }                                                                                \
        c = amp_real_curl(caller, &internal);                                            \
        if (c && internal)                                                               \
            return c->name(a, b, arg);                                                   \
        return amp_##name(c, internal, a, b, arg);                                       \
    }                                                                                    \
    static ret hook_##name(T1 a, T2 b, T3 arg)                                           \
    {                                                                                    \
        if (b != CURLINFO_EFFECTIVE_URL && b != CURLINFO_REDIRECT_URL) {                 \
            const struct amp_curl *only = amp_real_only();                               \
            if (only)                                                                    \
                return only->name(a, b, arg);                                            \
        }                                                                                \
        return name##_slow(a, b, arg, CALLER);                                           \
    }
AMP_HOOKED(RET, VOID, VA, VA1)
#undef RET
#undef VOID
#undef VA
#undef VA1

/* glibc reads the caller's RUNPATH and $ORIGIN from dlopen's return
 * address, and RTLD_NEXT's meaning from dlsym's: the first stage jumps
 * here and these are tail calls, so that address stays the application's
 * (the Makefile builds this file with sibling calls on). RTLD_DEEPBIND was
 * seen to by the first stage. */
static void *hook_dlopen(const char *file, int flags)
{
    /* Before anything it loads runs: it may bring another libcurl (real.h). */
    amp_real_loading();
    return amp_real_dlopen(file, flags);
}

static int hook_dlclose(void *handle)
{
    amp_real_loaded();
    amp_real_forget_callers();
    return amp_real_dlclose(handle);
}

/* FFI bindings (ctypes, Ruby's ffi, LuaJIT) take libcurl's functions by
 * name: the ones ampshim stands in for are handed out as ampshim's. */
static void *hook_dlsym(void *handle, const char *name)
{
    amp_real_loaded(); /* a dlopen of this thread's, returned (real.h) */
    int which = amp_ffi_wraps(name);

    if (which)
        return amp_ffi_dlsym(handle, name, NULL, which - 1, CALLER);
    return amp_real_dlsym(handle, name);
}

static void *hook_dlvsym(void *handle, const char *name, const char *version)
{
    amp_real_loaded();
    int which = amp_ffi_wraps(name);

    if (which)
        return amp_ffi_dlsym(handle, name, version, which - 1, CALLER);
    return amp_real_dlvsym(handle, name, version);
}

#define ENTRY(ret, name, ...) (void *)hook_##name,
#define ENTRY_VOID(name, ...) (void *)hook_##name,

/* The one exported symbol (AMP_CORE_ATTACH, whose name carries the version
 * of what is handed over): the first stage, having loaded the core, hands
 * over what it captured and the loader's functions, and takes the entries. */
__attribute__((visibility("default"))) void amp_core_attach_2(const struct amp_stage1 *s1,
                                                              struct amp_core *out)
{
    const struct amp_core entries = {
        .hooks = { AMP_HOOKED(ENTRY, ENTRY_VOID, ENTRY, ENTRY) },
        .dlopen = hook_dlopen,
        .dlclose = hook_dlclose,
        .dlsym = hook_dlsym,
        .dlvsym = hook_dlvsym,
    };

    amp_env_attach(&s1->env);
    amp_real_attach(s1);
    *out = entries;
}
