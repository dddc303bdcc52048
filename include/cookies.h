/* libcurl's cookie engine and routed transfers: a routed request
 * goes to the proxy's host, so libcurl would send it the cookies it holds
 * for the proxy, and file an answer's cookies there, for every provider at
 * once. Instead each routed request carries the cookies libcurl holds for
 * the provider's URL (a Cookie line of ours, ahead of our header list), an
 * answer's cookies are filed for the provider's host, and nothing is left
 * filed under the proxy's host. A cookie set through one route is never
 * sent on another. Costs nothing while the application has not turned the
 * cookie engine on and no routed answer has set a cookie. */
#ifndef AMPSHIM_COOKIES_H
#define AMPSHIM_COOKIES_H

#include "handle.h"

/* A routed request to the provider's url through route r is about to be
 * sent with our header list ours: the list to send instead (ours, or our
 * Cookie line ahead of it, valid until the next call or amp_cookies_free).
 * When owned is set, url is the caller's malloc'ed copy, now ours. */
struct curl_slist *amp_cookies_request(struct amp_handle *hs, const char *url, int owned,
                                       const struct amp_route *r, struct curl_slist *ours);

/* amp_cookies_request for a URL the caller keeps, with its common case
 * inline: no cookie engine, and the same URL and route as the last
 * request, which leave nothing to do. */
static inline struct curl_slist *amp_cookies_for(struct amp_handle *hs, const char *url,
                                                 const struct amp_route *r,
                                                 struct curl_slist *ours)
{
    const struct amp_cookies *k = &hs->cookies;

    if (!hs->app.cookie_engine && !k->seen && !k->owned_url && k->url == url && k->route == r)
        return ours;
    return amp_cookies_request(hs, url, 0, r, ours);
}

/* A "Set-Cookie:" header line (value after the colon) of an answer of the
 * proxy for route r, just filed by libcurl under the proxy's host. */
void amp_cookies_answer(struct amp_handle *hs, const struct amp_route *r, const char *value,
                        size_t len);

/* Whether libcurl may hold cookies for hs's handle: its engine turned
 * on, seen holding some, or a share handle that may hold some. */
static inline int amp_cookies_maybe(const struct amp_handle *hs)
{
    return hs->app.cookie_engine || hs->cookies.seen || hs->app.share;
}

/* hs is the new entry of a handle reset (curl_easy_reset) when
 * amp_cookies_maybe was true of its old one: libcurl keeps its cookies and
 * its share handle through a reset, so they go with the provider's
 * requests and an answer's are filed for the provider, as before it. */
void amp_cookies_reset(struct amp_handle *hs);

void amp_cookies_free(struct amp_handle *hs);

#endif
