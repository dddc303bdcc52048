/* CURL* -> what ampshim knows of that easy handle. A handle is used by one
 * thread at a time (libcurl's own rule), so an entry, once found, is used
 * without the table lock. */
#ifndef AMPSHIM_HANDLES_H
#define AMPSHIM_HANDLES_H

#include <stddef.h>

#include "curlapi.h"
#include "hash.h"
#include "route.h"

struct amp_handle {
    CURL *easy;
    const struct amp_curl *c;        /* the flavour that owns the handle */
    char *app_url;                   /* the application's CURLOPT_URL */
    struct curl_slist *app_headers;  /* the application's list: never ours to change */
    char *errbuf;                    /* the application's CURLOPT_ERRORBUFFER */
    /* Only needed where libcurl lacks curl_easy_header(): our header
     * callback passes every header on to what the application set. */
    curl_write_callback app_header_fn;
    void *app_header_data;
    curl_write_callback app_write_fn;

    /* The last routing decision, kept while app_url does not change. */
    int decided;
    const struct amp_route *route;
    char *proxy_url;

    /* Our header list, kept while app_headers holds the same nodes. */
    struct curl_slist *our_headers;
    const struct amp_route *headers_route;
    const void **snap;               /* node and string pointers of app_headers */
    size_t nsnap;

    UT_hash_handle hh;
};

/* The entry for easy; created when create is set (NULL when out of memory). */
struct amp_handle *amp_handle_find(CURL *easy, const struct amp_curl *c, int create);
/* Forget easy and free its entry. */
void amp_handle_forget(CURL *easy);

int amp_handle_set_url(struct amp_handle *hs, const char *url);
void amp_handle_set_headers(struct amp_handle *hs, struct curl_slist *list);

/* 1 when the application's list still has the nodes our list was built
 * from; otherwise the snapshot is taken anew and 0 returned. */
int amp_handle_headers_unchanged(struct amp_handle *hs);
void amp_handle_drop_ours(struct amp_handle *hs);

#endif
