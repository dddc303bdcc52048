/* The easy interface, between the exported hooks (hooks.c) and the real
 * libcurl (real.c). `caller` is the hook's return address: it says which
 * libcurl flavour the calling code uses, and whether it is libcurl itself. */
#ifndef AMPSHIM_EASY_H
#define AMPSHIM_EASY_H

#include <stdarg.h>

#include "curlapi.h"

CURLcode amp_easy_setopt(const void *caller, CURL *easy, CURLoption option, va_list ap);
CURLcode amp_easy_perform(const void *caller, CURL *easy);
void amp_easy_cleanup(const void *caller, CURL *easy);
void amp_easy_reset(const void *caller, CURL *easy);
CURL *amp_easy_duphandle(const void *caller, CURL *easy);

void *amp_dlopen(const char *file, int flags);

#endif
