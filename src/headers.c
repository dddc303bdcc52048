/* The headers ampshim sends: their names, each route's made once when the
 * config is loaded, and merged with the application's on each transfer. */
#define _GNU_SOURCE
#include "headers.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"

#define AMP_HEADER_NAMES(X)                                                              \
    X(PROXY_VERSION, "x-amp-proxy-version")                                              \
    X(PROJECT_ID, "x-amp-project-id")                                                    \
    X(API_KEY, "x-api-key")                                                              \
    X(INSTALLATION_ID, "x-amp-installation-id")                                          \
    X(INTEGRATION_NAME, "x-amp-integration-name")                                        \
    X(GROUP_REF, "x-amp-group-ref")                                                      \
    X(RATE_LIMITER_MODE, "x-amp-rate-limiter-mode")

#define NAME(id, name) [AMP_HDR_##id] = name,
const char *const amp_header_names[AMP_HDR_COUNT] = { AMP_HEADER_NAMES(NAME) };
#undef NAME
const size_t amp_header_count = AMP_HDR_COUNT;
/* Their lengths: each line of the application's is asked whether it is
 * one of ours, on every new handle. */
#define LEN(id, name) [AMP_HDR_##id] = sizeof(name) - 1,
static const unsigned char name_len[AMP_HDR_COUNT] = { AMP_HEADER_NAMES(LEN) };
#undef LEN

const struct amp_header *amp_header_make(struct amp_arena *a, enum amp_header_id id,
                                         const char *value)
{
    struct amp_header *h = amp_arena_alloc(a, sizeof(*h));
    const char *name = amp_header_names[id];
    size_t nlen = strlen(name), vlen = strlen(value);
    char *line = amp_arena_alloc(a, nlen + 2 + vlen + 1);

    if (!h || !line)
        return NULL;
    memcpy(line, name, nlen);
    memcpy(line + nlen, ": ", 2);
    memcpy(line + nlen + 2, value, vlen + 1);
    h->name = name;
    h->value = line + nlen + 2;
    h->secret = id == AMP_HDR_API_KEY;
    h->line = line;
    return h;
}

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

/* Whether the name (len bytes of line) is one of ours. */
static int ours_named(const char *line, size_t len)
{
    /* Every name of ours begins "x-": most of an application's do not. */
    if (len < 2 || (line[0] | 0x20) != 'x' || line[1] != '-')
        return 0;
    for (size_t i = 0; i < AMP_HDR_COUNT; i++)
        if (name_len[i] == len && strncasecmp(amp_header_names[i], line, len) == 0)
            return 1;
    return 0;
}

int amp_header_is_ours(const char *line)
{
    return ours_named(line, name_length(line));
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

/* Whether the application's line goes to the proxy (see amp_headers_merge). */
static int passes(const char *line, const struct amp_route *r)
{
    size_t len = line ? name_length(line) : 0;

    return line && !ours_named(line, len) && !is_host(line, len) &&
           !named(line, len, (const char *const *)r->drop, r->ndrop);
}

/* One allocation holds the nodes and the bytes the list owns: the "Name:"
 * lines, and the application's lines when they are copied. The route's
 * lines are the config's, which outlives every list made from it (a
 * handle lets go of its config only after dropping its lists). */
static struct curl_slist *merge(const struct curl_slist *app, const struct amp_route *r, int copy,
                                struct curl_slist *room, size_t nroom)
{
    size_t n = 0, bytes = 0, k = 0;
    /* Each line judged once: the first 64 lines' verdicts kept for the
     * second pass (a handle made per request merges on each). */
    uint64_t passed = 0;

    for (const struct curl_slist *l = app; l; l = l->next, k++)
        if (passes(l->data, r)) {
            passed |= k < 64 ? (uint64_t)1 << k : 0;
            n++;
            bytes += copy ? strlen(l->data) + 1 : 0;
        }
    n += r->nheaders;
    for (size_t i = 0; i < r->ndrop; i++)
        if (!is_host(r->drop[i], strlen(r->drop[i]))) {
            n++;
            bytes += strlen(r->drop[i]) + 2;
        }
    if (!n)
        return NULL;
    struct curl_slist *out = n <= nroom && !bytes ? room : malloc(n * sizeof(*out) + bytes);
    struct curl_slist *node = out;
    char *text = (char *)(out + n);
    if (!out)
        return NULL;
    for (k = 0; app; app = app->next, k++) {
        if (k < 64 ? !(passed >> k & 1) : !passes(app->data, r))
            continue;
        node->data = app->data;
        if (copy) {
            size_t len = strlen(app->data) + 1;
            node->data = memcpy(text, app->data, len);
            text += len;
        }
        node++;
    }
    for (size_t i = 0; i < r->nheaders; i++)
        (node++)->data = (char *)r->headers[i]->line;
    /* "Name:" with no value: libcurl then sends none of its own either
     * (an Authorization from CURLOPT_USERPWD, a Cookie, …). "Host:" would
     * take libcurl's away too: the proxy's Host stays. */
    for (size_t i = 0; i < r->ndrop; i++) {
        size_t len = strlen(r->drop[i]);
        if (is_host(r->drop[i], len))
            continue;
        memcpy(text, r->drop[i], len);
        memcpy(text + len, ":", 2);
        (node++)->data = text;
        text += len + 2;
    }
    for (size_t i = 0; i + 1 < n; i++)
        out[i].next = &out[i + 1];
    out[n - 1].next = NULL;
    return out;
}

struct curl_slist *amp_headers_merge(const struct curl_slist *app, const struct amp_route *r,
                                     int copy)
{
    return merge(app, r, copy, NULL, 0);
}

struct curl_slist *amp_headers_merge_into(const struct curl_slist *app, const struct amp_route *r,
                                          struct curl_slist *room, size_t nroom)
{
    return merge(app, r, 0, room, nroom);
}

void amp_headers_free(struct curl_slist *list)
{
    free(list);
}
