/* The easy interface, between the exported hooks (hooks.c, ffi.c) and the
 * real libcurl (real.c). `c` is the libcurl flavour the calling code uses
 * (NULL: none could be found); `internal` says the caller is that libcurl
 * itself, whose calls pass straight through. */
#ifndef AMPSHIM_EASY_H
#define AMPSHIM_EASY_H

#include <stdarg.h>

#include "curlapi.h"

CURLcode amp_easy_setopt(const struct amp_curl *c, int internal, CURL *easy, CURLoption option,
                         va_list ap);
/* The same, its argument already read as one machine word (hooks.c: every
 * setopt argument, a long, a pointer, a function pointer or a curl_off_t,
 * is one on the 64-bit architectures the first stage is written for). */
CURLcode amp_easy_setopt_word(const struct amp_curl *c, int internal, CURL *easy, CURLoption option,
                              long arg);
/* CURLOPT_URL set by the application (not by libcurl itself), on flavour c. */
CURLcode amp_easy_set_url(const struct amp_curl *c, CURL *easy, const char *url);

/* Our URL stays on the handle between transfers (options.c): an
 * application asking where its transfer went (EFFECTIVE_URL), or where a
 * redirect it did not follow leads (REDIRECT_URL), sees the provider's URL,
 * as it would without us. Every other question goes straight to libcurl
 * (inline: programs ask several per transfer). */
CURLcode amp_easy_url_info(const struct amp_curl *c, CURL *easy, CURLINFO info, char **out);
static inline CURLcode amp_easy_getinfo(const struct amp_curl *c, int internal, CURL *easy,
                                        CURLINFO info, void *out)
{
    if (!c)
        return CURLE_FAILED_INIT;
    if ((info == CURLINFO_EFFECTIVE_URL || info == CURLINFO_REDIRECT_URL) && !internal && out)
        return amp_easy_url_info(c, easy, info, out);
    return c->easy_getinfo(easy, info, out);
}
CURLcode amp_easy_perform(const struct amp_curl *c, int internal, CURL *easy);
void amp_easy_cleanup(const struct amp_curl *c, int internal, CURL *easy);
void amp_easy_reset(const struct amp_curl *c, int internal, CURL *easy);
CURL *amp_easy_duphandle(const struct amp_curl *c, int internal, CURL *easy);

#endif
