/* The easy interface: options noted as they are set, a routed perform,
 * and the handle's lifecycle (cleanup, reset, duphandle). */
#define _GNU_SOURCE
#include "easy.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "deepbind.h"
#include "handles.h"
#include "log.h"
#include "options.h"
#include "real.h"
#include "shim.h"
#include "transfer.h"

#define MAX_REROUTES 10

static void note(const struct amp_curl *c, CURL *easy, CURLoption option, long l, void *p,
                 void (*fn)(void))
{
    struct amp_handle *hs;

    if (amp_shim_get(c)->mode == AMP_OFF)
        return;
    /* Out of memory: the handle is marked, or, when even its entry could
     * not be made, found without one at its next transfer; either way it
     * goes out only where no route would take it (transfer.c). */
    if (!(hs = amp_handle_find(easy, c, 1)) || amp_option_note(hs, option, l, p, fn) < 0) {
        if (hs)
            hs->lost = 1;
        amp_error("out of memory while noting an option: this handle's routed calls will fail");
    }
}

CURLcode amp_easy_setopt(const struct amp_curl *c, int internal, CURL *easy, CURLoption option,
                         va_list ap)
{
    CURLcode rc;

    /* The argument is read with the type libcurl reads for the option's
     * range (lib/setopt.c) and passed on as exactly one argument of it. */
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        long v = va_arg(ap, long);
        if (!c)
            return CURLE_FAILED_INIT;
        rc = c->easy_setopt(easy, option, v);
        if (rc == CURLE_OK && !internal && amp_option_tracked(option))
            note(c, easy, option, v, NULL, NULL);
        return rc;
    }
    if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB) {
        void *v = va_arg(ap, void *);
        if (!c)
            return CURLE_FAILED_INIT;
        rc = c->easy_setopt(easy, option, v);
        if (rc == CURLE_OK && !internal && amp_option_tracked(option))
            note(c, easy, option, 0, v, NULL);
        return rc;
    }
    if (option < CURLOPTTYPE_OFF_T) {
        void (*v)(void) = va_arg(ap, void (*)(void));
        if (!c)
            return CURLE_FAILED_INIT;
        rc = c->easy_setopt(easy, option, v);
        if (rc == CURLE_OK && !internal && amp_option_tracked(option))
            note(c, easy, option, 0, NULL, v);
        return rc;
    }
    curl_off_t v = va_arg(ap, curl_off_t);
    return c ? c->easy_setopt(easy, option, v) : CURLE_FAILED_INIT;
}

CURLcode amp_easy_perform(const struct amp_curl *c, int internal, CURL *easy)
{
    int routed;
    CURLcode rc;

    if (!c)
        return CURLE_FAILED_INIT;
    if (internal)
        return c->easy_perform(easy);
    const struct amp_shim *shim = amp_shim_get(c);
    if (shim->mode == AMP_OFF)
        return c->easy_perform(easy);
    struct amp_handle *hs = amp_handle_for_transfer(easy, c);
    if (shim->mode == AMP_BROKEN) {
        if (hs)
            amp_transfer_error(hs, "ampshim: %s", shim->error);
        return CURLE_FAILED_INIT;
    }
    if (!hs) {
        amp_error("out of memory: a transfer is not sent");
        return CURLE_OUT_OF_MEMORY;
    }
    /* A routed transfer never given back (the application long-jumped out
     * of it, or lost it in a multi handle libcurl took it from): the
     * handle is the application's again before it is routed anew. One in a
     * multi handle, or this very perform called again from its own
     * callback, is left to libcurl, which refuses it. */
    if (hs->active && !hs->multi && !hs->performing)
        amp_transfer_end(shim->cfg, hs);
    if ((rc = amp_transfer_begin(shim->cfg, hs, 1, &routed)) != CURLE_OK)
        return rc;
    if (!routed)
        return c->easy_perform(easy);
    hs->performing = 1;
    rc = c->easy_perform(easy);
    /* The guard stopped a redirect to a routed URL: send it through the proxy. */
    for (int n = 0; (rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_COULDNT_RESOLVE_HOST) &&
                    hs->redirect_url;
         n++) {
        if (n == MAX_REROUTES) {
            amp_transfer_error(hs, "ampshim: more than %d redirects between routed URLs", n);
            rc = CURLE_TOO_MANY_REDIRECTS;
            break;
        }
        if ((rc = amp_transfer_reroute(shim->cfg, hs)) != CURLE_OK)
            break;
        rc = c->easy_perform(easy);
    }
    hs->performing = 0;
    amp_transfer_end(shim->cfg, hs);
    return rc;
}

void amp_easy_cleanup(const struct amp_curl *c, int internal, CURL *easy)
{
    if (!c)
        return;
    c->easy_cleanup(easy);
    if (!internal)
        amp_handle_free(amp_handle_take(easy));
}

/* A reset handle has no URL and no headers: neither do we remember any. */
void amp_easy_reset(const struct amp_curl *c, int internal, CURL *easy)
{
    if (!c)
        return;
    c->easy_reset(easy);
    if (!internal)
        amp_handle_free(amp_handle_take(easy));
}

/* The copy is routed like the original, from the application's options;
 * were ours on the original (a transfer in flight), they are taken off
 * the copy, which must not share our header list. */
CURL *amp_easy_duphandle(const struct amp_curl *c, int internal, CURL *easy)
{
    if (!c)
        return NULL;
    CURL *dup = c->easy_duphandle(easy);
    const struct amp_shim *shim = amp_shim_get(c);
    if (!dup || internal || shim->mode == AMP_OFF)
        return dup;
    struct amp_handle *from = amp_handle_find(easy, c, 0), *to;
    if (!from)
        return dup;
    if (!(to = amp_handle_find(dup, c, 1)) || amp_handle_copy_app(to, from) < 0) {
        amp_error("out of memory: a duplicated handle may go unrouted");
        return dup;
    }
    if (from->active && shim->cfg) {
        to->watching = from->watching;
        to->guarded = from->guarded;
        to->tracing = from->tracing;
        /* A copy made while a blocked call is answered has our answering
         * callbacks too, pointing at the original: they go as well. */
        to->answering = from->answering;
        amp_options_restore(to, shim->cfg);
        to->watching = to->guarded = to->tracing = 0;
    }
    return dup;
}

void *amp_dlopen(const char *file, int flags)
{
    /* RTLD_DEEPBIND (PHP loads its extensions so) binds an object to its
     * own libcurl ahead of our hooks; for an object that needs libcurl we
     * load it without, so the preload comes first as it does elsewhere. */
    if (file && amp_needs_libcurl(file)) {
        amp_debug("loading %s without RTLD_DEEPBIND so that its curl calls are routed", file);
        flags &= ~RTLD_DEEPBIND;
    }
    return amp_real_dlopen(file, flags);
}
