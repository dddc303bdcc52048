/* The libcurl functions ampshim calls, as one table per libcurl flavour.
 * The library fills a table from the libcurl the application loaded
 * (real.c); the launcher and the unit tests from the libcurl they link
 * (curlapi_linked.c). Route and config code only ever call through it. */
#ifndef AMPSHIM_CURLAPI_H
#define AMPSHIM_CURLAPI_H

#define CURL_DISABLE_TYPECHECK 1
/* Applications set deprecated options too: ampshim must name them. */
#define CURL_DISABLE_DEPRECATION 1
#include <curl/curl.h>

/* libcurl's functions that ampshim calls: X(ret, name, params, required).
 * curl_<name>; one not required (curl_easy_header, 7.84) may be missing. */
#define AMP_CURL_API(X)                                                                  \
    X(CURLcode, global_init, (long), 1)                                                  \
    X(CURLcode, global_init_mem, (long, curl_malloc_callback, curl_free_callback,        \
                                  curl_realloc_callback, curl_strdup_callback,           \
                                  curl_calloc_callback), 1)                              \
    X(CURLcode, easy_setopt, (CURL *, CURLoption, ...), 1)                               \
    X(CURLcode, easy_perform, (CURL *), 1)                                               \
    X(CURLcode, easy_getinfo, (CURL *, CURLINFO, ...), 1)                                \
    X(CURLHcode, easy_header, (CURL *, const char *, size_t, unsigned int, int,          \
                               struct curl_header **), 0)                                \
    X(time_t, getdate, (const char *, const time_t *), 1)                                \
    X(void, easy_cleanup, (CURL *), 1)                                                   \
    X(void, easy_reset, (CURL *), 1)                                                     \
    X(CURL *, easy_duphandle, (CURL *), 1)                                               \
    X(CURLMcode, multi_add_handle, (CURLM *, CURL *), 1)                                 \
    X(CURLMcode, multi_remove_handle, (CURLM *, CURL *), 1)                              \
    X(CURLMsg *, multi_info_read, (CURLM *, int *), 1)                                   \
    X(CURLMcode, multi_cleanup, (CURLM *), 1)                                            \
    X(struct curl_slist *, slist_append, (struct curl_slist *, const char *), 1)         \
    X(void, slist_free_all, (struct curl_slist *), 1)                                    \
    X(CURLU *, url, (void), 1)                                                           \
    X(void, url_cleanup, (CURLU *), 1)                                                   \
    X(CURLUcode, url_set, (CURLU *, CURLUPart, const char *, unsigned int), 1)           \
    X(CURLUcode, url_get, (CURLU *, CURLUPart, char **, unsigned int), 1)                \
    X(void, free, (void *), 1)

struct amp_curl {
    const char *name; /* the shared object, for log lines */
#define AMP_CURL_FIELD(ret, name, params, required) ret(*name) params;
    AMP_CURL_API(AMP_CURL_FIELD)
#undef AMP_CURL_FIELD
};

/* The table bound to the libcurl this program was linked with. */
const struct amp_curl *amp_curl_linked(void);

#endif
