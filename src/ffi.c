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

#include <dlfcn.h>
#include <stdarg.h>

#include "easy.h"
#include "log.h"
#include "multi.h"
#include "real.h"

/* The functions of flavour i: the hooks of hooks.c with the flavour fixed. */
#define FLAVOUR_SET(i)                                                                   \
    static CURLcode setopt_##i(CURL *easy, CURLoption option, ...)                       \
    {                                                                                    \
        va_list ap;                                                                      \
        va_start(ap, option);                                                            \
        CURLcode rc = amp_easy_setopt(amp_real_flavour(i), 0, easy, option, ap);         \
        va_end(ap);                                                                      \
        return rc;                                                                       \
    }                                                                                    \
    static CURLcode perform_##i(CURL *easy)                                              \
    {                                                                                    \
        return amp_easy_perform(amp_real_flavour(i), 0, easy);                           \
    }                                                                                    \
    static void cleanup_##i(CURL *easy)                                                  \
    {                                                                                    \
        amp_easy_cleanup(amp_real_flavour(i), 0, easy);                                  \
    }                                                                                    \
    static void reset_##i(CURL *easy)                                                    \
    {                                                                                    \
        amp_easy_reset(amp_real_flavour(i), 0, easy);                                    \
    }                                                                                    \
    static CURL *duphandle_##i(CURL *easy)                                               \
    {                                                                                    \
        return amp_easy_duphandle(amp_real_flavour(i), 0, easy);                         \
    }                                                                                    \
    static CURLMcode add_##i(CURLM *multi, CURL *easy)                                   \
    {                                                                                    \
        return amp_multi_add_handle(amp_real_flavour(i), 0, multi, easy);                \
    }                                                                                    \
    static CURLMcode remove_##i(CURLM *multi, CURL *easy)                                \
    {                                                                                    \
        return amp_multi_remove_handle(amp_real_flavour(i), 0, multi, easy);             \
    }                                                                                    \
    static CURLMsg *info_read_##i(CURLM *multi, int *queued)                             \
    {                                                                                    \
        return amp_multi_info_read(amp_real_flavour(i), 0, multi, queued);               \
    }                                                                                    \
    static CURLMcode multi_cleanup_##i(CURLM *multi)                                     \
    {                                                                                    \
        return amp_multi_cleanup(amp_real_flavour(i), 0, multi);                         \
    }

FLAVOUR_SET(0)
FLAVOUR_SET(1)
FLAVOUR_SET(2)
FLAVOUR_SET(3)
_Static_assert(AMP_MAX_FLAVOURS == 4, "one FLAVOUR_SET per flavour");

typedef void (*fn)(void);

/* In the order of names[]. */
#define ROW(i)                                                                           \
    {                                                                                    \
        (fn)setopt_##i, (fn)perform_##i, (fn)cleanup_##i, (fn)reset_##i, (fn)duphandle_##i, \
            (fn)add_##i, (fn)remove_##i, (fn)info_read_##i, (fn)multi_cleanup_##i        \
    }

static const char *const names[] = {
    "curl_easy_setopt",      "curl_easy_perform",        "curl_easy_cleanup",
    "curl_easy_reset",       "curl_easy_duphandle",      "curl_multi_add_handle",
    "curl_multi_remove_handle", "curl_multi_info_read",  "curl_multi_cleanup",
};
#define NWRAPPED (sizeof(names) / sizeof(names[0]))

static const fn sets[AMP_MAX_FLAVOURS][NWRAPPED] = { ROW(0), ROW(1), ROW(2), ROW(3) };

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
    /* Not a tail call: RTLD_NEXT now means "after this library", which is
     * where the caller would find libcurl too unless it came before us. */
    void *p = version ? amp_real_dlvsym(handle, name, version) : amp_real_dlsym(handle, name);
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
