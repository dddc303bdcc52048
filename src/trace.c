/* Masking the key in the application's verbose output. */
#define _GNU_SOURCE
#include "callbacks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inflight.h"
#include "log.h"

/* libcurl hands the request to the debug callback as it sends it, in
 * pieces of its upload buffer (64 KiB at most): a key may straddle two.
 * How many of its first bytes end this piece, after the ": " of its
 * header line (0: none). */
static size_t split_at_end(const char *data, size_t size, const char *key, size_t klen)
{
    for (size_t m = klen - 1; m >= 1; m--)
        if (size >= m + 2 && memcmp(data + size - m - 2, ": ", 2) == 0 &&
            memcmp(data + size - m, key, m) == 0)
            return m;
    return 0;
}

int amp_trace_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata)
{
    struct amp_handle *hs = userdata;
    const struct amp_config *cfg = hs->cfg;
    char *copy = NULL;

    amp_transfer_started(hs);
    size_t klen = cfg && cfg->api_key ? strlen(cfg->api_key) : 0;
    /* The rest of a key the last piece of the request ended with, and the
     * start of one this piece ends with: both masked, the whole key shown
     * as it would be in one piece (its last 4 characters). Other kinds
     * (TLS records, libcurl's own lines) may come between two pieces. */
    size_t had = 0, rest = 0, start = 0;
    if (klen > 1 && (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT)) {
        had = hs->xfer.trace_split;
        if (had && had < klen && size >= klen - had &&
            memcmp(data, cfg->api_key + had, klen - had) == 0)
            rest = klen - had;
        start = split_at_end(data, size, cfg->api_key, klen);
        amp_transfer_trace_split(hs, start);
    }
    /* Every kind: HTTP/2 lists the request's headers as text lines too. */
    if (rest || start || (klen && size >= klen && memmem(data, size, cfg->api_key, klen)))
        copy = malloc(size);
    if (copy) {
        memcpy(copy, data, size);
        for (char *p = copy; (p = memmem(p, size - (size_t)(p - copy), cfg->api_key, klen)); p += klen)
            amp_mask_in_place(p, klen);
        size_t hidden = amp_mask_hidden(klen);
        if (rest && hidden > had)
            memset(copy, '*', hidden - had < rest ? hidden - had : rest);
        memset(copy + size - start, '*', start < hidden ? start : hidden);
        data = copy;
    }
    int rc = 0;
    if (hs->app.debug_fn) {
        rc = hs->app.debug_fn(easy, type, data, size, hs->app.debug_data);
    } else if (type == CURLINFO_TEXT || type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT) {
        /* What libcurl writes itself when there is no debug callback. */
        static const char prefix[][3] = { "* ", "< ", "> " };
        FILE *out = hs->app.err ? hs->app.err : stderr;
        fwrite(prefix[type], 2, 1, out);
        fwrite(data, size, 1, out);
    }
    free(copy);
    return rc;
}
