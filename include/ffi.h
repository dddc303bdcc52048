/* libcurl bound by name (FFI: Python's ctypes, Ruby's ffi behind ethon and
 * typhoeus, LuaJIT, Node): dlsym(handle, "curl_easy_perform") never reaches
 * an interposed symbol, so the functions ampshim stands in for are handed
 * out as ampshim's own, one set per libcurl flavour. */
#ifndef AMPSHIM_FFI_H
#define AMPSHIM_FFI_H

#include <string.h>

/* Which of the functions ampshim stands in for name is: 1 + its index,
 * or 0. */
int amp_ffi_wrapped(const char *name);

/* The same, cheap for every dlsym a program makes (Python's imports,
 * plugins): most names fail on their first letters. */
static inline int amp_ffi_wraps(const char *name)
{
    return name && name[0] == 'c' && strncmp(name, "curl_", 5) == 0 ? amp_ffi_wrapped(name) : 0;
}

/* dlsym (version NULL) or dlvsym for name, which is function number
 * which (amp_ffi_wraps - 1): libcurl's
 * function when caller is libcurl itself or this library, else ampshim's
 * for the flavour that defines it. RTLD_NEXT is taken from this library's
 * place in the search order. */
void *amp_ffi_dlsym(void *handle, const char *name, const char *version, int which,
                    const void *caller);

#endif
