/* The libcurl functions ampshim stands in for, written once. The exported
 * hooks (hooks.c) and the per-flavour sets handed out to FFI look-ups
 * (ffi.c) are both made from this list; curl_<name> is carried out by
 * amp_<name>(flavour, internal, the same arguments) in global.c, easy.c and
 * multi.c.
 *
 *   RET(ret, name, params, args)   a function that returns a value
 *   VOID(name, params, args)       one that returns nothing
 *   VA(ret, name, T1, T2)          curl_<name>(T1, T2, ...): the logic
 *                                  takes the rest as a va_list (ffi.c), or
 *                                  read as one word (amp_<name>_word, hooks.c)
 *   VA1(ret, name, T1, T2, T3)     curl_<name>(T1, T2, ...) whose one more
 *                                  argument is always a T3: passed as one */
#ifndef AMPSHIM_HOOKED_H
#define AMPSHIM_HOOKED_H

#include "curlapi.h"

#define AMP_HOOKED(RET, VOID, VA, VA1)                                                        \
    RET(CURLcode, global_init, (long flags), (flags))                                    \
    RET(CURLcode, global_init_mem,                                                       \
        (long flags, curl_malloc_callback m, curl_free_callback f, curl_realloc_callback r, \
         curl_strdup_callback s, curl_calloc_callback ca),                               \
        (flags, m, f, r, s, ca))                                                         \
    VA(CURLcode, easy_setopt, CURL *, CURLoption)                                        \
    VA1(CURLcode, easy_getinfo, CURL *, CURLINFO, void *)                                \
    RET(CURLcode, easy_perform, (CURL * easy), (easy))                                   \
    VOID(easy_cleanup, (CURL * easy), (easy))                                            \
    VOID(easy_reset, (CURL * easy), (easy))                                              \
    RET(CURL *, easy_duphandle, (CURL * easy), (easy))                                   \
    RET(CURLMcode, multi_add_handle, (CURLM * multi, CURL * easy), (multi, easy))        \
    RET(CURLMcode, multi_remove_handle, (CURLM * multi, CURL * easy), (multi, easy))     \
    RET(CURLMsg *, multi_info_read, (CURLM * multi, int *queued), (multi, queued))       \
    RET(CURLMcode, multi_cleanup, (CURLM * multi), (multi))

/* (a, b) -> a, b: an argument list spliced after others. */
#define AMP_ARGS(...) __VA_ARGS__

#endif
