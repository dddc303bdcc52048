/* Merging the application's headers with ours. */
#define _GNU_SOURCE
#include "headers.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"

static size_t name_length(const char *line)
{
    size_t len = strcspn(line, ":;");

    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    return len;
}

static int named(const char *line, size_t len, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], line, len) == 0)
            return 1;
    return 0;
}

int amp_header_is_ours(const char *line)
{
    return named(line, name_length(line), amp_header_names, amp_header_count);
}

/* The request goes to the proxy, so it names the proxy: the application's
 * Host (Guzzle always sets one, curl -H 'Host: …', virtual-host checks)
 * would send it to a front end that routes by host for the provider.
 * libcurl writes the proxy's Host (:authority on HTTP/2) from the URL when
 * the list has none. */
static int is_host(const char *line, size_t len)
{
    return len == 4 && strncasecmp(line, "Host", 4) == 0;
}

struct curl_slist *amp_headers_merge(const struct amp_curl *c, const struct curl_slist *app,
                                     const struct amp_route *r)
{
    struct curl_slist *out = NULL, *next;

    for (; app; app = app->next) {
        size_t len = app->data ? name_length(app->data) : 0;
        if (!app->data || amp_header_is_ours(app->data) || is_host(app->data, len) ||
            named(app->data, len, (const char *const *)r->drop, r->ndrop))
            continue;
        if (!(next = c->slist_append(out, app->data)))
            goto oom;
        out = next;
    }
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!(next = c->slist_append(out, r->headers[i])))
            goto oom;
        out = next;
    }
    /* "Name:" with no value: libcurl then sends none of its own either
     * (an Authorization from CURLOPT_USERPWD, a Cookie, …). */
    for (size_t i = 0; i < r->ndrop; i++) {
        char line[256];
        /* "Host:" would take libcurl's away too: the proxy's Host stays. */
        if (is_host(r->drop[i], strlen(r->drop[i])))
            continue;
        snprintf(line, sizeof(line), "%s:", r->drop[i]);
        if (!(next = c->slist_append(out, line)))
            goto oom;
        out = next;
    }
    return out;
oom:
    c->slist_free_all(out);
    return NULL;
}
