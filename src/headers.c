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

struct curl_slist *amp_headers_merge(const struct amp_curl *c, const struct curl_slist *app,
                                     const struct amp_route *r)
{
    struct curl_slist *out = NULL, *next;

    for (; app; app = app->next) {
        if (!app->data || amp_header_is_ours(app->data) ||
            named(app->data, name_length(app->data), (const char *const *)r->drop, r->ndrop))
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
