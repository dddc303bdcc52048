/* The easy interface: options noted as they are set, a routed perform,
 * and the handle's lifecycle (cleanup, reset, duphandle). */
#define _GNU_SOURCE
#include "easy.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "deepbind.h"
#include "handles.h"
#include "log.h"
#include "options.h"
#include "real.h"
#include "settings.h"
#include "transfer.h"

#define MAX_REROUTES 10

static void note(const struct amp_curl *c, CURL *easy, int row, union amp_optval v)
{
    struct amp_handle *hs;

    if (amp_settings_get(c)->mode == AMP_OFF)
        return;
    /* Out of memory: the handle is marked, or, when even its entry could
     * not be made, found without one at its next transfer; either way it
     * goes out only where no route would take it (transfer.c). */
    if (!(hs = amp_handle_find(easy, c, 1)) || amp_option_note(hs, row, v) < 0) {
        if (hs)
            hs->lost = 1;
        amp_error("out of memory while noting an option: this handle's routed calls will fail");
    }
    /* A transfer under way (added to a multi handle, or this option set
     * from one of its callbacks) has ours put back at once, in the mode the
     * new value asks for. One not yet started whose URL changed is routed
     * again, as if added now, so that nothing of ours goes where the new
     * URL leads (libcurl reads it when the multi handle first drives it). */
    if (hs && hs->xfer.active && amp_transfer_option_set(hs, row)) {
        const struct amp_settings *s = amp_settings_get(c);
        CURLM *multi = hs->xfer.multi;
        int routed;
        amp_transfer_take_back(hs);
        hs->xfer.multi = multi;
        CURLcode rc = s->mode == AMP_ON ? amp_transfer_begin(s->cfg, hs, 0, (int64_t)time(NULL), &routed)
                                        : CURLE_FAILED_INIT;
        if (rc != CURLE_OK)
            amp_transfer_begin_failed(s->cfg, hs, rc);
    }
}

/* The application's own CURLOPT_URL. On a handle that carries our options
 * (its last transfer was routed) a URL that is routed too is decided here
 * and libcurl is handed the proxy URL at once: the transfer then finds
 * nothing to set. */
static CURLcode set_url(const struct amp_curl *c, CURL *easy, const char *url)
{
    const struct amp_settings *shim = amp_settings_get(c);
    struct amp_handle *hs;

    if (shim->mode == AMP_ON && (hs = amp_handle_find(easy, c, 0)) && !hs->lost &&
        !hs->xfer.active && !hs->app.curlu && url && amp_options_hold_url(hs)) {
        struct amp_decision *d = &hs->decision;
        const struct amp_config *cfg = shim->cfg;
        amp_transfer_use_config(hs, cfg);
        cfg = hs->cfg;
        if (!(hs->app.url && strcmp(hs->app.url, url) == 0 && d->done && d->url == hs->app.url) &&
            amp_transfer_decide_url(cfg, hs, url) < 0)
            d->done = 0;
        else if (d->route) {
            CURLcode rc = amp_options_put(hs, CURLOPT_URL, (union amp_optval){ .p = d->proxy_url });
            hs->opts.url = d->proxy_url;
            if (rc == CURLE_OK && d->url != hs->app.url &&
                amp_handle_keep_string(&hs->app.url, &hs->app.url_cap, url) < 0) {
                hs->lost = 1;
                amp_error("out of memory while noting an option: this handle's routed calls will fail");
            }
            d->url = hs->app.url;
            if (rc != CURLE_OK)
                d->done = 0;
            return rc;
        }
        d->done = 0;
    }
    CURLcode rc = c->easy_setopt(easy, CURLOPT_URL, url);
    if (rc == CURLE_OK)
        note(c, easy, amp_option_row(CURLOPT_URL), (union amp_optval){ .p = (void *)url });
    return rc;
}

CURLcode amp_easy_setopt(const struct amp_curl *c, int internal, CURL *easy, CURLoption option,
                         va_list ap)
{
    union amp_optval v;
    CURLcode rc;

    if (!c)
        return CURLE_FAILED_INIT;
    /* The argument is read with the type libcurl reads for the option's
     * range (lib/setopt.c) and passed on as exactly one argument of it. */
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        v.l = va_arg(ap, long);
        rc = c->easy_setopt(easy, option, v.l);
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB) {
        v.p = va_arg(ap, void *);
        if (option == CURLOPT_URL && !internal)
            return set_url(c, easy, v.p);
        rc = c->easy_setopt(easy, option, v.p);
    } else if (option < CURLOPTTYPE_OFF_T) {
        v.f = va_arg(ap, void (*)(void));
        rc = c->easy_setopt(easy, option, v.f);
    } else {
        return c->easy_setopt(easy, option, va_arg(ap, curl_off_t));
    }
    int row;
    if (rc == CURLE_OK && !internal && (row = amp_option_row(option)) >= 0)
        note(c, easy, row, v);
    return rc;
}

/* A URL libcurl holds for a routed handle, as the application would see
 * it: on the proxy, the proxy's URL gives way to the provider's part the
 * route rewrote (the part of the application's URL its rewritten URL does
 * not share); anywhere else (a redirect off the proxy) as it is. */
static char *unproxied(struct amp_handle *hs, char *url)
{
    const struct amp_decision *d = &hs->decision;
    const char *proxy = hs->cfg ? hs->cfg->proxy_url : NULL;
    size_t pl = proxy ? strlen(proxy) : 0;

    if (!url || !pl || !d->url || !d->proxy_url || strncmp(url, proxy, pl) != 0 ||
        strncmp(d->proxy_url, proxy, pl) != 0)
        return url;
    size_t rest = strlen(d->proxy_url) - pl, app = strlen(d->url);
    if (rest > app)
        return url;
    size_t prefix = app - rest, tail = strlen(url + pl), need = prefix + tail + 1;
    if (need > hs->decision.shown_cap) {
        char *grown = realloc(hs->decision.shown, need);
        if (!grown)
            return url;
        hs->decision.shown = grown;
        hs->decision.shown_cap = need;
    }
    memcpy(hs->decision.shown, d->url, prefix);
    memcpy(hs->decision.shown + prefix, url + pl, tail + 1);
    return hs->decision.shown;
}

CURLcode amp_easy_url_info(const struct amp_curl *c, CURL *easy, CURLINFO info, char **out)
{
    struct amp_handle *hs = amp_handle_find(easy, c, 0);

    if (!hs || !amp_options_hold_url(hs) || !hs->decision.url)
        return c->easy_getinfo(easy, info, out);
    /* Where it went: the URL the application asked for (a redirect
     * followed through the proxy may have led elsewhere: see Limits). */
    if (info == CURLINFO_EFFECTIVE_URL) {
        *out = (char *)hs->decision.url;
        return CURLE_OK;
    }
    CURLcode rc = c->easy_getinfo(easy, info, out);
    if (rc == CURLE_OK)
        *out = unproxied(hs, *out);
    return rc;
}

CURLcode amp_easy_perform(const struct amp_curl *c, int internal, CURL *easy)
{
    int routed;
    CURLcode rc;

    if (!c)
        return CURLE_FAILED_INIT;
    if (internal)
        return c->easy_perform(easy);
    int64_t now;
    const struct amp_settings *shim = amp_settings_refresh(c, &now);
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
    if (hs->xfer.active && !hs->xfer.multi && !hs->xfer.performing)
        amp_transfer_end(hs);
    if ((rc = amp_transfer_begin(shim->cfg, hs, 1, now, &routed)) != CURLE_OK)
        return rc;
    if (!routed)
        return c->easy_perform(easy);
    hs->xfer.performing = 1;
    rc = c->easy_perform(easy);
    /* The guard stopped a redirect to a routed URL: send it through the proxy. */
    for (int n = 0; (rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_COULDNT_RESOLVE_HOST) &&
                    hs->guard.redirect_url && !hs->orphaned;
         n++) {
        if (n == MAX_REROUTES) {
            amp_transfer_error(hs, "ampshim: more than %d redirects between routed URLs", n);
            rc = CURLE_TOO_MANY_REDIRECTS;
            break;
        }
        if ((rc = amp_transfer_reroute(hs->cfg, hs)) != CURLE_OK)
            break;
        rc = c->easy_perform(easy);
    }
    hs->xfer.performing = 0;
    amp_transfer_end(hs);
    if (hs->orphaned)
        amp_handle_free(hs);
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
    struct amp_handle *hs = internal ? NULL : amp_handle_take(easy);
    if (!hs)
        return;
    /* libcurl keeps the last RESOLVE list it was given until its next
     * transfer starts, reset or not: never one of ours about to be freed. */
    if (hs->opts.resolve)
        c->easy_setopt(easy, CURLOPT_RESOLVE, (struct curl_slist *)NULL);
    /* Reset from one of its own callbacks: the perform under way still
     * uses the entry, and frees it when it returns. */
    if (hs->xfer.performing)
        hs->orphaned = 1;
    else
        amp_handle_free(hs);
}

/* The copy is routed like the original, from the application's options;
 * whatever of ours libcurl copied with the handle (our header list, our
 * callbacks pointing at the original's entry) is taken off the copy. */
CURL *amp_easy_duphandle(const struct amp_curl *c, int internal, CURL *easy)
{
    if (!c)
        return NULL;
    CURL *dup = c->easy_duphandle(easy);
    const struct amp_settings *shim = amp_settings_get(c);
    if (!dup || internal || shim->mode == AMP_OFF)
        return dup;
    struct amp_handle *from = amp_handle_find(easy, c, 0), *to;
    if (!from)
        return dup;
    if (!(to = amp_handle_find(dup, c, 1)) || amp_handle_copy_app(to, from) < 0) {
        amp_error("out of memory: a duplicated handle may go unrouted");
        if (to)
            to->lost = 1;
    }
    if (to && from->opts.on) {
        to->opts = from->opts;
        amp_options_give_back_all(to);
        to->opts.resolve = NULL; /* the original's */
    }
    return dup;
}

void *amp_dlopen(const char *file, int flags)
{
    /* RTLD_DEEPBIND (PHP loads its extensions so) binds an object to its
     * own libcurl ahead of our hooks; for an object that needs libcurl we
     * load it without, so the preload comes first as it does elsewhere. */
    if (file && amp_deepbind_needs_libcurl(file)) {
        amp_debug("loading %s without RTLD_DEEPBIND so that its curl calls are routed", file);
        flags &= ~RTLD_DEEPBIND;
    }
    return amp_real_dlopen(file, flags);
}
