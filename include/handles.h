/* CURL* -> what ampshim knows of that easy handle. A handle is used by one
 * thread at a time (libcurl's own rule), so an entry, once found, is used
 * without the table lock. */
#ifndef AMPSHIM_HANDLES_H
#define AMPSHIM_HANDLES_H

#include <stddef.h>
#include <stdio.h>

#include "curlapi.h"
#include "hash.h"
#include "route.h"

/* What the application set, for each option ampshim stands in for during
 * a routed transfer; given back to the handle when the transfer ends. */
struct amp_app_options {
    char *url;                        /* CURLOPT_URL (our copy) */
    CURLU *curlu;                     /* CURLOPT_CURLU: wins over url, never modified */
    struct curl_slist *headers;       /* CURLOPT_HTTPHEADER: never ours to change */
    char *errbuf;                     /* CURLOPT_ERRORBUFFER */
    long follow;                      /* CURLOPT_FOLLOWLOCATION */
    long port;                        /* CURLOPT_PORT */
    struct curl_slist *connect_to;    /* CURLOPT_CONNECT_TO */
    struct curl_slist *resolve;       /* CURLOPT_RESOLVE */
    char *doh_url;                    /* CURLOPT_DOH_URL (our copy) */
    curl_ssl_ctx_callback ssl_ctx_fn; /* CURLOPT_SSL_CTX_FUNCTION */
    char *pinned;                     /* CURLOPT_PINNEDPUBLICKEY (our copy) */
    long headeropt;                   /* CURLOPT_HEADEROPT */
    long verify_peer, verify_host;    /* CURLOPT_SSL_VERIFYPEER / VERIFYHOST */
    int posts;                        /* a request with a body: POST, upload, … */
    int custom_unsafe;                /* CURLOPT_CUSTOMREQUEST other than GET or HEAD */
    char *noproxy;                    /* CURLOPT_NOPROXY (our copy) */
    curl_prereq_callback prereq_fn;   /* CURLOPT_PREREQFUNCTION / DATA */
    void *prereq_data;
    curl_resolver_start_callback resolver_fn; /* CURLOPT_RESOLVER_START_FUNCTION / DATA */
    void *resolver_data;
    curl_write_callback header_fn;    /* CURLOPT_HEADERFUNCTION / DATA */
    void *header_data;
    curl_write_callback write_fn;     /* CURLOPT_WRITEFUNCTION */
    long verbose;                     /* CURLOPT_VERBOSE */
    curl_debug_callback debug_fn;     /* CURLOPT_DEBUGFUNCTION / DATA */
    void *debug_data;
    FILE *err;                        /* CURLOPT_STDERR */
    /* Set aside while a blocked call is answered here (respond.c). */
    curl_opensocket_callback open_fn; /* CURLOPT_OPENSOCKETFUNCTION / DATA */
    void *open_data;
    long connect_only;                /* CURLOPT_CONNECT_ONLY: a blocked call cannot be answered */
    curl_sockopt_callback sockopt_fn; /* CURLOPT_SOCKOPTFUNCTION */
    curl_closesocket_callback close_fn; /* CURLOPT_CLOSESOCKETFUNCTION / DATA */
    void *close_data;
    char *unix_socket;                /* CURLOPT_UNIX_SOCKET_PATH or ABSTRACT_UNIX_SOCKET (our copy) */
    int unix_abstract;                /* which of the two */
    long fresh_connect, forbid_reuse; /* CURLOPT_FRESH_CONNECT, CURLOPT_FORBID_REUSE */
    long http_version;                /* CURLOPT_HTTP_VERSION */
    long ipresolve;                   /* CURLOPT_IPRESOLVE */
    char *interface;                  /* CURLOPT_INTERFACE (our copy) */
    long localport, localportrange;   /* CURLOPT_LOCALPORT, CURLOPT_LOCALPORTRANGE */
    long protocols;                   /* CURLOPT_PROTOCOLS (0: never set) */
    char *protocols_str;              /* CURLOPT_PROTOCOLS_STR (our copy) */
};

/* The response as our header callback sees it go by (ratelimit.c); the
 * values are kept only where libcurl has no curl_easy_header() (< 7.84). */
struct amp_watch {
    int status;                       /* of the response being received */
    int recorded;                     /* its 429 is in the shared state */
    char amp_retry_after[128];
    char retry_after[128];
    char retryable[16];
};

struct amp_handle {
    CURL *easy;
    const struct amp_curl *c;         /* the flavour that owns the handle */
    struct amp_app_options app;

    /* The last routing decision, kept while the URL does not change. */
    int decided;                      /* route and proxy_url are for decided_url */
    char *decided_url;
    size_t decided_cap;
    const struct amp_route *route;
    char *proxy_url;                  /* the memo's buffer: not freed here */
    struct amp_url_memo memo;         /* the origin of the last URL parsed */

    /* Our header list, kept while the application's list is the same. */
    struct curl_slist *our_headers;
    const struct amp_route *headers_route;
    char **snap;                      /* the application's header lines it was built from */
    size_t nsnap;
    int headers_dirty;                /* CURLOPT_HTTPHEADER was set since */
    int lost;                         /* an option could not be noted (out of memory):
                                         only an unrouted URL may go out */

    /* The routed transfer in flight. */
    int active;                       /* our options are on the handle */
    CURLM *multi;                     /* the multi handle it was added to */
    int performing;                   /* inside our curl_easy_perform of it */
    CURLcode forced;                  /* a blocked multi transfer: the result to report */
    char forced_msg[CURL_ERROR_SIZE];
    CURLMsg msg;                      /* what curl_multi_info_read returns instead */
    const struct amp_route *cur_route;/* the route of the request now: NULL off the proxy */
    const struct amp_route *proxy_route;  /* the route, and our list, for requests */
    struct curl_slist *proxy_headers;     /* that go to the proxy */
    struct curl_slist *extra_headers; /* a list built for a redirect's route */
    char *redirect_url;               /* a redirect to a routed URL, stopped by the guard */
    int watching;                     /* our header callback is on the handle */
    int guarded;                      /* our redirect guards are on the handle */
    int tracing;                      /* our debug callback is on the handle */
    struct amp_watch watch;
    int guard_only;                   /* unrouted, but its redirects are looked at */
    int answering;                    /* a blocked call answered here (respond.c) */
    char *answer;                     /* the HTTP answer it gets */
    size_t answer_len;
    int answer_listen;                /* the socket it connects to, or -1 */
    int answer_fd;                    /* our end of its connection, or -1 */

    UT_hash_handle hh;
};

/* The entry for easy; created when create is set (NULL when out of memory). */
struct amp_handle *amp_handle_find(CURL *easy, const struct amp_curl *c, int create);
/* The entry of a handle about to run. One never seen (its entry could not
 * be made when its options were set: out of memory) is made now, and
 * marked lost. NULL when out of memory. */
struct amp_handle *amp_handle_for_transfer(CURL *easy, const struct amp_curl *c);
/* Take easy's entry out of the table; the caller frees it. */
struct amp_handle *amp_handle_take(CURL *easy);
void amp_handle_free(struct amp_handle *hs);
/* Calls fn for every entry on multi (for curl_multi_cleanup). */
void amp_handle_each_on(CURLM *multi, void (*fn)(struct amp_handle *, void *), void *arg);

/* Copies every application option from one entry to another (duphandle). */
int amp_handle_copy_app(struct amp_handle *to, const struct amp_handle *from);

int amp_handle_set_url(struct amp_handle *hs, const char *url);
int amp_handle_set_noproxy(struct amp_handle *hs, const char *noproxy);
/* A copy of value (or NULL) into *slot, the old one freed. -1 when out of memory. */
int amp_handle_set_string(char **slot, const char *value);
int amp_handle_set_unix_socket(struct amp_handle *hs, const char *path, int abstract);
int amp_handle_set_protocols(struct amp_handle *hs, long mask, const char *names);

/* 1 when the application's header list still reads as the lines our list
 * was built from; otherwise the snapshot is taken anew and 0 returned. */
int amp_handle_headers_unchanged(struct amp_handle *hs);
void amp_handle_drop_ours(struct amp_handle *hs);

#endif
