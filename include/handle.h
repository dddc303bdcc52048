/* struct amp_handle: what ampshim knows of one easy handle, split into
 * parts, each written by one file only (tests/integration/structure.py
 * checks it):
 *
 *   the table of handles, orphaned,  handles.c
 *   orphan_next
 *   app, opts (bookkeeping)          options.c: noted, copied, given back
 *   opts.url/headers/resolve         transfer.c: what a routed request is given
 *   decision, hdrs, xfer, guard      transfer.c (libcurl's callbacks through inflight.h)
 *   watch                            ratelimit.c
 *   answer                           respond.c
 *   cookies                          cookies.c
 *
 * The floors, from the top; a file includes only the headers of the floors
 * below its own, so no two modules include each other:
 *
 *   hooks.c, ffi.c                   the exported symbols
 *   easy.c, multi.c, global.c        adapters: each call into one function below
 *   transfer.c                       one routed transfer, its policy
 *   handles.c                        the table: an entry made, found, freed
 *   ratelimit.c > redirect.c,        each part's owner; libcurl's callbacks
 *   respond.c, cookies.c, trace.c    (callbacks.h) among them
 *   options.c                        the option table (names the callbacks)
 *   inflight.h                       what the floors below transfer.c may ask
 *                                    of the transfer in flight (transfer.c)
 *   handle.h                         this data, nothing else
 *   settings, tally, route, headers, confine, config, real, locks, log
 *
 * libcurl calls back into the floors under transfer.c while a transfer it
 * began runs; those callbacks change the transfer only through inflight.h.
 * A handle is used by one thread at a time (libcurl's own rule). */
#ifndef AMPSHIM_HANDLE_H
#define AMPSHIM_HANDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "curlapi.h"
#include "grow.h"
#include "hash.h"
#include "ownfd.h"
#include "route.h"
#include "tally.h"

/* What the application set, for each option ampshim stands in for during
 * a routed transfer (options.c has the table that reads and writes it). */
struct amp_app_options {
    char *url;                        /* CURLOPT_URL (our copy; url_cap its buffer) */
    size_t url_cap;
    CURLU *curlu;                     /* CURLOPT_CURLU: wins over url, never modified */
    struct curl_slist *headers;       /* CURLOPT_HTTPHEADER: never ours to change */
    char *errbuf;                     /* CURLOPT_ERRORBUFFER */
    long follow;                      /* CURLOPT_FOLLOWLOCATION */
    long port;                        /* CURLOPT_PORT */
    struct curl_slist *connect_to;    /* CURLOPT_CONNECT_TO */
    struct curl_slist *resolve;       /* CURLOPT_RESOLVE */
    char *doh_url;                    /* CURLOPT_DOH_URL (our copy) */
    void (*ssl_ctx_fn)(void);         /* CURLOPT_SSL_CTX_FUNCTION */
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
    curl_write_callback write_fn;     /* CURLOPT_WRITEFUNCTION / DATA */
    void *write_data;
    long include_header;              /* CURLOPT_HEADER: headers in the body's stream */
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
    char *unix_socket;                /* CURLOPT_UNIX_SOCKET_PATH (our copy) */
    char *abstract_socket;            /* CURLOPT_ABSTRACT_UNIX_SOCKET (our copy); one of the two */
    long fresh_connect, forbid_reuse; /* CURLOPT_FRESH_CONNECT, CURLOPT_FORBID_REUSE */
    long http_version;                /* CURLOPT_HTTP_VERSION */
    long haproxy;                     /* CURLOPT_HAPROXYPROTOCOL */
    long ipresolve;                   /* CURLOPT_IPRESOLVE */
    char *interface;                  /* CURLOPT_INTERFACE (our copy) */
    long localport, localportrange;   /* CURLOPT_LOCALPORT, CURLOPT_LOCALPORTRANGE */
    long protocols;                   /* CURLOPT_PROTOCOLS (0: never set) */
    char *protocols_str;              /* CURLOPT_PROTOCOLS_STR (our copy); one of the two */
    char *cookie;                     /* CURLOPT_COOKIE (our copy) */
    char *referer;                    /* CURLOPT_REFERER (our copy) */
    long cookie_engine;               /* libcurl's turned on by COOKIEFILE, COOKIEJAR, COOKIELIST;
                                         2: and COOKIEFILE names a file */
    void *share;                      /* CURLOPT_SHARE */
    uint64_t set;                     /* row i of options.c's table: its value is not
                                         libcurl's default (a sync looks at a row that
                                         puts only such a value only where it is) */
};

/* One value of an option, whichever its type. */
union amp_optval {
    long l;
    void *p;
    void (*f)(void);
};

/* Which of our values libcurl holds now (options.c). They stay on the
 * handle between transfers: a handle that goes to the same route again
 * needs no option set at all. */
#define AMP_OPTION_ROWS 64
struct amp_opt_state {
    uint64_t on;                      /* row i: libcurl holds put[i], ours */
    union amp_optval put[AMP_OPTION_ROWS];
    unsigned mode;                    /* the mode they were last made to fit */
    int dirty;                        /* a row changed since: look at every row again */
    uint64_t stale;                   /* rows whose value of ours changed since */
    unsigned noted;                   /* options of the application noted so far (any
                                         row): transfer.c sets a transfer up as the last
                                         one only while this has not moved */
    const char *url;                  /* the URL and header list a routed */
    struct curl_slist *headers;       /* request is given (transfer.c) */
    struct curl_slist *resolve;       /* the application's RESOLVE list without the
                                         proxy's host (confine.c), ours */
};

/* The last routing decision, kept while the URL does not change. */
struct amp_decision {
    int done;                         /* route and proxy_url are for url */
    int said;                         /* logged (info) as sent since decided */
    const char *url;                  /* the application's URL decided on */
    char *held_url;                   /* that URL, kept when the application set another
                                         while a transfer of it ran (url points here until
                                         the next decision) */
    char *curlu_url;                  /* a CURLU's URL, when it gave one */
    size_t curlu_cap;
    const struct amp_route *route;
    struct amp_tally *tally;          /* the route's counters (tally.c) */
    char *proxy_url;                  /* the memo's buffer: not freed here */
    struct amp_url_memo memo;         /* the origin of the last URL parsed */
    char *shown;                      /* a URL of libcurl's as the application sees it */
    size_t shown_cap;
    /* The last transfer begun, sent lean, to be begun again as it was
     * (begin's short way) while nothing it was set up from has moved. */
    int again;                        /* set by begin, kept by end if nothing changed */
    unsigned again_noted;             /* opts.noted when it was set up */
    unsigned again_mode;              /* the mode it was sent in */
};

/* One line of the application's header list, as our list was built from it. */
struct amp_header_seen {
    const struct curl_slist *node;
    const char *data;
};

/* Our header list, kept while the application's list is made of the same
 * nodes holding the same strings (transfer.c). */
struct amp_header_cache {
    struct curl_slist *ours;          /* in the entry's rooms.headers when it fits */
    const struct amp_route *route;
    struct amp_header_seen *snap;     /* the application's list it was built from: */
    size_t nsnap;
    struct amp_header_seen few[4];    /* here when it has four lines or fewer (a handle
                                         made per request saves an allocation) */
    int dirty;                        /* CURLOPT_HTTPHEADER was set since */
};

/* A 429's values, kept as its lines go by our header callback: libcurl
 * before 7.84 keeps no headers to ask for afterwards, and its store misses
 * some after the application paused in its header callback. */
struct amp_watch_kept {
    char amp_retry_after[128];
    char retry_after[128];
    char retryable[16];
};

/* The response as our header callback sees it go by (ratelimit.c). */
struct amp_watch {
    int status;                       /* of the response being received */
    int recorded;                     /* its 429 is in the shared state */
    int quiet;                        /* its lines other than a status line, a
                                       * Set-Cookie or a Location matter not:
                                       * not a 429 (ratelimit.c's fast path) */
    int several;                      /* more than one status line this transfer */
    const struct amp_route *route;    /* the route of the request it answers (the
                                       * guard's cur_route as its status line came):
                                       * its Set-Cookie lines are that provider's,
                                       * even after its Location took the next
                                       * request off the proxy */
    int done;                         /* nothing of the rest of this response can
                                       * matter here: its lines go to the
                                       * application as they come */
    /* Allocated at a handle's first 429 line: the handle's cleared state
     * stays within 2 KiB, which glibc clears without `rep stosb`, for every
     * handle a program makes (handles.c). */
    struct amp_watch_kept *kept;
};

/* The redirect guard's view of the requests of one transfer (transfer.c;
 * redirect.c's callbacks change it through inflight.h). */
struct amp_guard {
    const struct amp_route *cur_route;    /* the route of the request now: NULL off the proxy */
    const struct amp_route *proxy_route;  /* the route, and our list, for requests */
    struct curl_slist *proxy_headers;     /* that go to the proxy */
    struct curl_slist *extra_headers;     /* a list built for a redirect's route */
    char *redirect_url;                   /* a redirect to a routed URL, stopped */
    char *redirect_proxy_url;             /* where it is sent instead */
};

/* libcurl's cookies and routed requests (cookies.c). */
struct amp_cookies {
    int seen;                         /* libcurl was seen holding cookies: its engine is on */
    const char *url;                  /* the provider's URL of the routed request now */
    char *owned_url;                  /* that URL, when it is ours to free */
    const struct amp_route *route;    /* and its route */
    struct curl_slist node;           /* our Cookie line, ahead of our header list */
    struct curl_slist *gave;          /* the list a routed request was last given */
    char *line;
    size_t cap;
};

/* A blocked call answered here (respond.c). */
struct amp_answer {
    char *text;                       /* the HTTP answer it gets */
    size_t len;
    char *url;                        /* where libcurl is sent for it */
    /* Checked to be ours before each use or close (ownfd.h): the
     * application may close them and reuse the numbers meanwhile. */
    struct amp_ownfd listen_fd;       /* the socket it connects to */
    struct amp_ownfd fd;              /* our end of its connection */
};

/* The routed transfer in flight: reset as a whole when one starts. */
struct amp_inflight {
    int active;                       /* a transfer of ours is under way */
    unsigned mode;                    /* AMP_MODE_* of options.h */
    CURLM *multi;                     /* the multi handle it was added to */
    int performing;                   /* inside our curl_easy_perform of it */
    int started;                      /* libcurl called one of our callbacks for it: it
                                         has read its URL (the earliest we can tell) */
    struct amp_tally *counted;        /* the route its request to the proxy counts as */
    int sent;                         /* routed, counted when first sent (PREREQFUNCTION) */
    int lean;                         /* lean (AMP_MODE_LEAN) when it began or since: its
                                         end is its perform's return (transfer.c) */
    int refused;                      /* our PREREQFUNCTION refused the connection libcurl
                                         picked to a plain-http proxy (not our socket any
                                         more: amp_confine_sends_on); nothing was sent */
    CURLcode forced;                  /* a blocked multi transfer: the result to report */
    struct amp_tally *counted_blocked; /* the route it was counted blocked on (ratelimit.c) */
    int64_t now;                      /* the UTC second it began */
    char forced_msg[CURL_ERROR_SIZE];
    CURLMsg msg;                      /* what curl_multi_info_read returns instead */
    size_t trace_split;               /* the key's first bytes ended the last piece of
                                         verbose output: how many (trace.c) */
};

struct amp_handle {
    CURL *easy;
    const struct amp_curl *c;         /* the flavour that owns the handle */
    const struct amp_config *cfg;     /* the config its transfer runs with */
    int lost;                         /* an option could not be noted (out of memory):
                                         only an unrouted URL may go out */
    int orphaned;                     /* taken out of the table (curl_easy_reset) while
                                         libcurl may still use it: its perform runs (freed
                                         by it), or its transfer is in a multi handle
                                         (set aside until the handle leaves it) */
    struct amp_handle *orphan_next;   /* the next entry set aside (handles.c) */
    struct amp_app_options app;
    struct amp_opt_state opts;
    struct amp_decision decision;
    struct amp_header_cache hdrs;
    struct amp_inflight xfer;
    struct amp_watch watch;
    struct amp_guard guard;
    struct amp_answer answer;
    struct amp_cookies cookies;

    UT_hash_handle hh;
    /* Last, and never cleared (handles.c clears an entry up to here): the
     * first homes of buffers that a handle made per request (PHP's
     * curl_init) would otherwise allocate and free once a request, among
     * libcurl's allocations. Each is read only where its owner's pointer
     * says it holds something (a zeroed entry's say nothing). */
    struct amp_rooms {
        struct curl_slist headers[12]; /* transfer.c: hdrs.ours */
        char rewritten[AMP_GROW_MIN];  /* route.c: decision.memo's buf */
    } rooms;
};

#endif
