/* The easy interface, an adapter: each call finds the handle's entry
 * (handles.c) and hands it to the transfer (transfer.c) or the option
 * table (options.c); the handle's lifecycle (cleanup, reset, duphandle). */
#define _GNU_SOURCE
#include "easy.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cookies.h"
#include "handles.h"
#include "log.h"
#include "options.h"
#include "real.h"
#include "settings.h"
#include "transfer.h"

static void note(const struct amp_curl *c, CURL *easy, int row, union amp_optval v)
{
    if (amp_settings_get(c)->mode == AMP_OFF)
        return;
    amp_transfer_option_noted(c, amp_handle_find(easy, c, 1), row, v);
}

/* The application's URL handed to libcurl as it is, and noted. One libcurl
 * refuses (longer than it takes, out of memory) leaves it none (it frees
 * the one it held first): noted so (transfer.c's url_refused). */
__attribute__((noinline)) static CURLcode url_as_set(const struct amp_curl *c, CURL *easy, const char *url)
{
    CURLcode rc = c->easy_setopt(easy, CURLOPT_URL, url);

    if (rc == CURLE_OK)
        note(c, easy, amp_option_row(CURLOPT_URL), (union amp_optval){ .p = (void *)url });
    else if (easy)
        note(c, easy, amp_option_row(CURLOPT_URL), (union amp_optval){ .p = NULL });
    return rc;
}

/* The application's own CURLOPT_URL: on a handle that carries our options,
 * possibly handed the proxy URL at once (transfer.c, which then also
 * notes it). */
__attribute__((noinline)) static CURLcode set_url(const struct amp_curl *c, CURL *easy, const char *url)
{
    const struct amp_settings *shim = amp_settings_get(c);
    struct amp_handle *hs;

    if (shim->mode == AMP_ON) {
        hs = amp_handle_find(easy, c, 0);
        if (hs)
            return amp_transfer_url_set(c, shim->cfg, hs, url);
    }
    return url_as_set(c, easy, url);
}

/* The same, the common case first (the settings loaded and on, the handle
 * the one this thread used last) in tail calls without a frame: the hook's
 * fast path comes here (hooks.c) at every CURLOPT_URL. */
CURLcode amp_easy_set_url(const struct amp_curl *c, CURL *easy, const char *url)
{
    struct amp_handle *hs = amp_handle_last_used(easy);

    if (hs && atomic_load_explicit(&amp_settings_loaded, memory_order_acquire) &&
        amp_settings_now.mode == AMP_ON)
        return amp_transfer_url_set(c, amp_settings_now.cfg, hs, url);
    return set_url(c, easy, url);
}

/* An option other than a curl_off_t one, its argument read with the type
 * libcurl reads for the option's range (lib/setopt.c) and passed on as
 * exactly one argument of it. */
static CURLcode setopt_value(const struct amp_curl *c, int internal, CURL *easy, CURLoption option,
                             union amp_optval v)
{
    CURLcode rc;

    if (option < CURLOPTTYPE_OBJECTPOINT) {
        rc = c->easy_setopt(easy, option, v.l);
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB) {
        if (option == CURLOPT_URL && !internal)
            return amp_easy_set_url(c, easy, v.p);
        rc = c->easy_setopt(easy, option, v.p);
    } else {
        rc = c->easy_setopt(easy, option, v.f);
    }
    int row;
    if (rc == CURLE_OK && !internal) {
        row = amp_option_noted_row(option, &v);
        if (row >= 0)
            note(c, easy, row, v);
    }
    return rc;
}

static int is_off_t(CURLoption option)
{
    return option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB;
}

CURLcode amp_easy_setopt(const struct amp_curl *c, int internal, CURL *easy, CURLoption option,
                         va_list ap)
{
    long arg;

    /* Read with the type libcurl reads for the option's range (lib/setopt.c),
     * then handed on as the one word it is on the two ABIs ampshim runs on
     * (x86_64, aarch64: the setopt hook takes it so, see hooks.c). */
    if (is_off_t(option))
        arg = (long)va_arg(ap, curl_off_t);
    else if (option < CURLOPTTYPE_OBJECTPOINT)
        arg = va_arg(ap, long);
    else if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB)
        arg = (long)(intptr_t)va_arg(ap, void *);
    else
        arg = (long)(intptr_t)va_arg(ap, void (*)(void));
    return amp_easy_setopt_word(c, internal, easy, option, arg);
}

CURLcode amp_easy_setopt_word(const struct amp_curl *c, int internal, CURL *easy, CURLoption option,
                              long arg)
{
    union amp_optval v;

    if (!c)
        return CURLE_FAILED_INIT;
    if (is_off_t(option))
        return c->easy_setopt(easy, option, (curl_off_t)arg);
    if (option < CURLOPTTYPE_OBJECTPOINT)
        v.l = arg;
    else if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB)
        v.p = (void *)arg;
    else
        v.f = (void (*)(void))arg;
    return setopt_value(c, internal, easy, option, v);
}

CURLcode amp_easy_url_info(const struct amp_curl *c, CURL *easy, CURLINFO info, char **out)
{
    struct amp_handle *hs = amp_handle_find(easy, c, 0);

    if (!hs)
        return c->easy_getinfo(easy, info, out);
    return amp_transfer_url_info(c, hs, info, out);
}

CURLcode amp_easy_perform(const struct amp_curl *c, int internal, CURL *easy)
{
    if (!c)
        return CURLE_FAILED_INIT;
    /* NULL: libcurl's CURLE_BAD_FUNCTION_ARGUMENT, and no entry of ours. */
    if (internal || !easy)
        return c->easy_perform(easy);
    struct amp_now now;
    const struct amp_settings *shim = amp_settings_refresh(c, &now);
    if (shim->mode == AMP_OFF)
        return c->easy_perform(easy);
    struct amp_handle *hs = amp_handle_for_transfer(easy, c);
    if (shim->mode == AMP_BROKEN) {
        if (hs)
            amp_transfer_fail(hs, CURLE_FAILED_INIT, AMP_FAIL_QUIET, "%s", shim->error);
        return CURLE_FAILED_INIT;
    }
    if (!hs) {
        amp_error("out of memory: a transfer is not sent");
        return CURLE_OUT_OF_MEMORY;
    }
    int orphaned;
    CURLcode rc = amp_transfer_perform(c, shim->cfg, hs, now, &orphaned);
    if (orphaned)
        amp_handle_free(hs);
    return rc;
}

void amp_easy_cleanup(const struct amp_curl *c, int internal, CURL *easy)
{
    if (!c)
        return;
    c->easy_cleanup(easy);
    if (internal)
        return;
    amp_handle_free(amp_handle_take(easy));
    /* Reset while in a multi handle, which libcurl has just taken it out of. */
    for (struct amp_handle *hs = amp_handle_orphan(easy, NULL, 1); hs; hs = amp_handle_orphan(easy, NULL, 1))
        amp_handle_free(hs);
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
    /* libcurl keeps its cookies and its share handle through a reset: the
     * handle's new entry knows of them (cookies.c). */
    if (amp_cookies_maybe(hs)) {
        struct amp_handle *fresh = amp_handle_find(easy, c, 1);
        if (fresh)
            amp_cookies_reset(fresh);
    }
    amp_handle_drop(hs);
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
    to = amp_handle_find(dup, c, 1);
    if (!to || amp_options_copy(to, from) < 0) {
        amp_error("out of memory: a duplicated handle may go unrouted");
        if (to)
            to->lost = 1;
    }
    return dup;
}
