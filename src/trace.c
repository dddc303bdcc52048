/* Masking the key in the application's verbose output. */
#define _GNU_SOURCE
#include "callbacks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inflight.h"
#include "log.h"

int amp_trace_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata)
{
    struct amp_handle *hs = userdata;
    const struct amp_config *cfg = hs->cfg;
    char *copy = NULL;

    amp_transfer_started(hs);
    size_t klen = cfg && cfg->api_key ? strlen(cfg->api_key) : 0;
    /* Every kind: HTTP/2 lists the request's headers as text lines too. */
    if (klen && size >= klen && memmem(data, size, cfg->api_key, klen))
        copy = malloc(size);
    if (copy) {
        memcpy(copy, data, size);
        for (char *p = copy; (p = memmem(p, size - (size_t)(p - copy), cfg->api_key, klen)); p += klen)
            amp_mask_in_place(p, klen);
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
