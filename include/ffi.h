/* libcurl bound by name (FFI: Python's ctypes, Ruby's ffi behind ethon and
 * typhoeus, LuaJIT, Node): dlsym(handle, "curl_easy_perform") never reaches
 * an interposed symbol, so the functions ampshim stands in for are handed
 * out as ampshim's own, one set per libcurl flavour. */
#ifndef AMPSHIM_FFI_H
#define AMPSHIM_FFI_H

#include <string.h>

int amp_ffi_wrapped(const char *name);

/* Whether dlsym(…, name) may concern us: cheap, for every dlsym a
 * program makes (Python's imports, plugins). */
static inline int amp_ffi_wraps(const char *name)
{
    return name && name[0] == 'c' && strncmp(name, "curl_", 5) == 0 && amp_ffi_wrapped(name);
}

/* dlsym (version NULL) or dlvsym for a name amp_ffi_wraps: libcurl's
 * function when caller is libcurl itself or this library, else ampshim's
 * for the flavour that defines it. RTLD_NEXT is taken from this library's
 * place in the search order. */
void *amp_ffi_dlsym(void *handle, const char *name, const char *version, const void *caller);

#endif
