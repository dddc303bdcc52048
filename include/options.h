/* The options ampshim stands in for, in one table (options.c): what the
 * application set is noted as it sets it; ours are put on the handle when
 * a transfer needs them and then stay there, and the application's are
 * given back only where it could see the difference: before a transfer
 * that needs them, on a duplicated handle, and (for the URL) in
 * curl_easy_getinfo. */
#ifndef AMPSHIM_OPTIONS_H
#define AMPSHIM_OPTIONS_H

#include <stdint.h>

#include "handle.h"

/* What a transfer is, as far as the options go: the rows of the table
 * each say in which of these modes they put a value of ours. */
enum {
    AMP_MODE_SEND = 1 << 0,    /* sent to the proxy, with our URL and headers */
    AMP_MODE_ANSWER = 1 << 1,  /* a blocked call answered here (respond.c) */
    AMP_MODE_NOWHERE = 1 << 2, /* a call that fails with nothing sent */
    AMP_MODE_PLAIN = 1 << 3,   /* sent to a plain-http relay on loopback */
    AMP_MODE_GUARD = 1 << 4,   /* each request of it looked at (redirect.c) */
    AMP_MODE_TRACE = 1 << 5,   /* the application's verbose output masked (trace.c) */
    AMP_MODE_AWAY = 1 << 6,    /* a routed transfer redirected off the proxy: the
                                  application's options for the rest of it */
    AMP_MODE_LEAN = 1 << 7,    /* with SEND: no header callback of ours; the
                                  response watched from the body's (ratelimit.c) */
    AMP_MODE_FRESH = 1 << 8,   /* with PLAIN: on a new connection, none of libcurl's
                                  kept ones (amp_confine_intact said one is not ours) */
    AMP_MODE_HELD = 1 << 9,    /* with AWAY: the proxy's answer whose Location sent it
                                  away is still being read, by our header callback (its
                                  Set-Cookie lines after the Location are the
                                  provider's), until the next request goes */
};
#define AMP_MODE_ROUTED (AMP_MODE_SEND | AMP_MODE_ANSWER | AMP_MODE_NOWHERE)
#define AMP_MODES 1024 /* every combination of the bits above */

/* What the application changing a row's option means to a transfer under
 * way (transfer.c), read from the table: */
enum amp_change {
    AMP_CHANGE_NONE,    /* nothing: the row is read only where it is used */
    AMP_CHANGE_ROUTE,   /* the URL: where the transfer goes */
    AMP_CHANGE_HEADERS, /* the header list ours is merged from */
    AMP_CHANGE_MODE,    /* a value of ours, or a bit of the mode (below) */
};
enum amp_change amp_option_change(int row);

/* The mode bits the application's values turn on in a transfer sent to
 * the proxy: GUARD when it follows redirects, TRACE when it is verbose. */
unsigned amp_options_app_bits(const struct amp_handle *hs);

/* The table's row for option, or -1 when ampshim does not track it. */
int amp_option_row(CURLoption option);

/* libcurl 8.2's CURLOPT_HAPROXY_CLIENT_IP (older headers lack it). */
#define AMP_CURLOPT_HAPROXY_CLIENT_IP ((CURLoption)(CURLOPTTYPE_STRINGPOINT + 323))
/* The row an application's setopt of option that libcurl took is noted on,
 * with the value noted in *v, or -1. An option whose setopt sets another's
 * value inside libcurl is noted as that other: a client IP for the PROXY
 * line (AMP_CURLOPT_HAPROXY_CLIENT_IP) turns the line on, as
 * CURLOPT_HAPROXYPROTOCOL 1 does, and NULL turns it off. */
int amp_option_noted_row(CURLoption option, union amp_optval *v);

/* The application set row's option to this value, and libcurl took it:
 * it is kept, and libcurl holds the application's value now. -1 when out
 * of memory (the handle must then be marked lost). */
int amp_option_note(struct amp_handle *hs, int row, union amp_optval v);
/* The same, saying what the new value changes for a routed transfer
 * (transfer.c acts on it): AMP_CHANGE_ROUTE for another URL (the same URL
 * again, which most programs set before every transfer, changes nothing),
 * AMP_CHANGE_HEADERS for the header list, AMP_CHANGE_NONE otherwise. */
int amp_option_note_change(struct amp_handle *hs, int row, union amp_optval v,
                           enum amp_change *what);

/* A new entry's application values: libcurl's defaults. */
void amp_options_init(struct amp_handle *hs);
/* The entry is freed: the application's values and our lists with it. */
void amp_options_free(struct amp_handle *hs);

/* A duplicated handle (curl_easy_duphandle): the application's options
 * copied from the original's entry, and whatever of ours libcurl copied
 * given back on the copy. -1 when out of memory (some not copied). */
int amp_options_copy(struct amp_handle *to, const struct amp_handle *from);

/* The application's URL (not NULL, strlen() len) kept as noted, libcurl
 * holding ours already (a URL routed as it was set). -1 when out of
 * memory. */
int amp_options_keep_url_len(struct amp_handle *hs, const char *url, size_t len);
/* The buffer the application's URL is kept in, handed over (the caller
 * frees it): the next URL noted is kept in a new one. */
char *amp_options_take_url(struct amp_handle *hs);

/* value (or NULL) into a buffer kept and grown (*cap its size): no
 * allocation when the value fits. -1 when out of memory. */
int amp_options_keep_string(char **slot, size_t *cap, const char *value);

/* Makes the handle carry exactly what mode needs: ours on the rows that
 * mode puts, the application's on every other row we had changed. Costs
 * nothing when neither the mode nor any row changed since. hs->opts.url
 * and hs->opts.headers are the URL and header list of a routed request.
 * -1 when libcurl refused one of ours (out of memory). */
int amp_options_sync(struct amp_handle *hs, unsigned mode);

/* Every row given back, whatever the mode was (a duplicated handle). */
void amp_options_give_back_all(struct amp_handle *hs);

/* The value of ours for option now differs from what the handle holds
 * (a new proxy URL in the same buffer, a new header list): put again at
 * the next sync. */
void amp_options_stale(struct amp_handle *hs, CURLoption option);

/* option set on the handle now, outside a sync (inside a transfer, or
 * the URL inside the application's own curl_easy_setopt): ours (v), or the
 * application's own value again. CURLE_OK or libcurl's refusal. */
CURLcode amp_options_put(struct amp_handle *hs, CURLoption option, union amp_optval v);
CURLcode amp_options_give_back(struct amp_handle *hs, CURLoption option);
/* amp_options_put(hs, CURLOPT_URL, url): a new proxy URL, put as the
 * application sets each new URL (most programs, on every request). */
CURLcode amp_options_put_url(struct amp_handle *hs, const char *url);

/* The URL's row in the table (options.c checks it is), for the inline
 * questions below, asked at every CURLOPT_URL the application sets. */
#define AMP_OPTION_URL_ROW 0
#define AMP_OPTION_URL_BIT ((uint64_t)1 << AMP_OPTION_URL_ROW)

/* 1 when libcurl holds a URL of ours for the handle. */
static inline int amp_options_hold_url(const struct amp_handle *hs)
{
    return (hs->opts.on & AMP_OPTION_URL_BIT) != 0;
}

/* 1 when libcurl holds url as ours for the handle, put since the row last
 * changed (not stale): handing it to libcurl once more is what
 * amp_options_put would do, without bookkeeping that would change nothing
 * (transfer.c), but for a refusal: the URL noted as none then (libcurl
 * freed the one it held). */
static inline int amp_options_url_held(const struct amp_handle *hs, const char *url)
{
    return (hs->opts.on & AMP_OPTION_URL_BIT) && !(hs->opts.stale & AMP_OPTION_URL_BIT) &&
           hs->opts.put[AMP_OPTION_URL_ROW].p == url;
}

#endif
