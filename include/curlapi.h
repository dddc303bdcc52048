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

struct amp_curl {
    const char *name; /* the shared object, for log lines */
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    /* NULL before libcurl 7.84: a header callback stands in (ratelimit.c). */
    CURLHcode (*easy_header)(CURL *, const char *, size_t, unsigned int, int,
                             struct curl_header **);
    time_t (*getdate)(const char *, const time_t *);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURL *(*easy_duphandle)(CURL *);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *);
    CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
    CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
    void (*free)(void *);
};

/* The table bound to the libcurl this program was linked with. */
const struct amp_curl *amp_curl_linked(void);

#endif
