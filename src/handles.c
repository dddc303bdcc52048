/* The per-handle table: a pointer-keyed uthash under one mutex, held only
 * for the look-up itself. */
#define _GNU_SOURCE
#include "handles.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cookies.h"
#include "locks.h"
#include "options.h"
#include "settings.h"

static struct amp_handle *table;

/* The handle this thread used last, found again without the lock: a
 * program mostly works one handle at a time. Any entry taken out of the
 * table moves `taken` on, and every such memory is then asked again. */
static atomic_uint taken;
/* initial-exec: this library is loaded with the program (LD_PRELOAD), so
 * its thread-local block is static and found without __tls_get_addr. */
static __thread __attribute__((tls_model("initial-exec"))) struct {
    CURL *easy;
    struct amp_handle *hs;
    unsigned taken;
} last;

struct amp_handle *amp_handle_find(CURL *easy, const struct amp_curl *c, int create)
{
    struct amp_handle *hs = NULL;
    unsigned now = atomic_load_explicit(&taken, memory_order_acquire);

    if (last.easy == easy && last.taken == now && last.hs)
        return last.hs;
    pthread_mutex_lock(&amp_lock_handles);
    HASH_FIND_PTR(table, &easy, hs);
    if (!hs && create && (hs = calloc(1, sizeof(*hs)))) {
        hs->easy = easy;
        hs->c = c;
        amp_options_init(hs);
        hs->answer.fd = hs->answer.listen_fd = AMP_OWNFD_NONE;
        amp_hash_oom = 0;
        HASH_ADD_PTR(table, easy, hs);
        if (amp_hash_oom) {
            free(hs);
            hs = NULL;
        }
    }
    pthread_mutex_unlock(&amp_lock_handles);
    if (hs) {
        last.easy = easy;
        last.hs = hs;
        last.taken = now;
    }
    return hs;
}

struct amp_handle *amp_handle_for_transfer(CURL *easy, const struct amp_curl *c)
{
    struct amp_handle *hs = amp_handle_find(easy, c, 0);

    if (!hs && (hs = amp_handle_find(easy, c, 1)))
        hs->lost = 1;
    return hs;
}

struct amp_handle *amp_handle_take(CURL *easy)
{
    struct amp_handle *hs = NULL;

    pthread_mutex_lock(&amp_lock_handles);
    HASH_FIND_PTR(table, &easy, hs);
    if (hs) {
        HASH_DEL(table, hs);
        atomic_fetch_add_explicit(&taken, 1, memory_order_acq_rel);
    }
    pthread_mutex_unlock(&amp_lock_handles);
    return hs;
}

void amp_handle_each_on(CURLM *multi, void (*fn)(struct amp_handle *, void *), void *arg)
{
    struct amp_handle *hs, *tmp, **on = NULL;
    size_t n = 0, cap = 0;

    /* Collected under the lock, visited without it: fn calls libcurl. */
    pthread_mutex_lock(&amp_lock_handles);
    HASH_ITER(hh, table, hs, tmp) {
        if (hs->xfer.multi != multi)
            continue;
        if (n == cap) {
            struct amp_handle **v = realloc(on, (cap ? cap * 2 : 16) * sizeof(*v));
            if (!v)
                break;
            on = v;
            cap = cap ? cap * 2 : 16;
        }
        on[n++] = hs;
    }
    pthread_mutex_unlock(&amp_lock_handles);
    for (size_t i = 0; i < n; i++)
        fn(on[i], arg);
    free(on);
}

static void free_snap(struct amp_handle *hs)
{
    for (size_t i = 0; i < hs->hdrs.nsnap; i++)
        free(hs->hdrs.snap[i]);
    free(hs->hdrs.snap);
    hs->hdrs.snap = NULL;
    hs->hdrs.nsnap = 0;
}

void amp_handle_drop_ours(struct amp_handle *hs)
{
    if (hs->hdrs.ours)
        hs->c->slist_free_all(hs->hdrs.ours);
    hs->hdrs.ours = NULL;
    hs->hdrs.route = NULL;
}

/* Every string of the application's we hold a copy of (the URL apart). */
static const size_t strings[] = {
    offsetof(struct amp_app_options, noproxy),       offsetof(struct amp_app_options, interface),
    offsetof(struct amp_app_options, unix_socket),   offsetof(struct amp_app_options, abstract_socket),
    offsetof(struct amp_app_options, protocols_str), offsetof(struct amp_app_options, doh_url),
    offsetof(struct amp_app_options, pinned),        offsetof(struct amp_app_options, cookie),
};
#define NSTRINGS (sizeof(strings) / sizeof(strings[0]))

static char **string_at(struct amp_app_options *app, size_t i)
{
    return (char **)((char *)app + strings[i]);
}

void amp_handle_free(struct amp_handle *hs)
{
    if (!hs)
        return;
    amp_handle_drop_ours(hs);
    free_snap(hs);
    if (hs->guard.extra_headers)
        hs->c->slist_free_all(hs->guard.extra_headers);
    if (hs->opts.resolve)
        hs->c->slist_free_all(hs->opts.resolve);
    free(hs->app.url);
    for (size_t i = 0; i < NSTRINGS; i++)
        free(*string_at(&hs->app, i));
    free(hs->answer.text);
    free(hs->answer.url);
    amp_ownfd_close(&hs->answer.fd);
    amp_ownfd_close(&hs->answer.listen_fd);
    free(hs->decision.curlu_url);
    free(hs->decision.shown);
    free(hs->guard.redirect_url);
    free(hs->guard.redirect_proxy_url);
    amp_url_memo_free(&hs->decision.memo);
    amp_cookies_free(hs);
    amp_settings_release(hs->cfg);
    free(hs);
}

static int set_string(char **slot, const char *value)
{
    char *copy = NULL;

    if (value && !(copy = strdup(value)))
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

int amp_handle_copy_app(struct amp_handle *to, const struct amp_handle *from)
{
    struct amp_app_options *app = &to->app;
    char *mine[NSTRINGS], *url = app->url;
    size_t url_cap = app->url_cap;
    int rc = 0;

    for (size_t i = 0; i < NSTRINGS; i++)
        mine[i] = *string_at(app, i);
    *app = from->app;
    /* Every string we hold a copy of: the copy's own. */
    for (size_t i = 0; i < NSTRINGS; i++) {
        char **slot = string_at(app, i);
        *slot = mine[i];
        rc |= set_string(slot, *string_at((struct amp_app_options *)&from->app, i));
    }
    app->url = url;
    app->url_cap = url_cap;
    if (from->app.url)
        rc |= amp_handle_keep_string(&app->url, &app->url_cap, from->app.url);
    return rc;
}

int amp_handle_set_string(char **slot, const char *value)
{
    return set_string(slot, value);
}

int amp_handle_keep_string(char **slot, size_t *cap, const char *value)
{
    size_t need;

    if (!value) {
        free(*slot);
        *slot = NULL;
        *cap = 0;
        return 0;
    }
    need = strlen(value) + 1;
    if (need > *cap) {
        char *grown = realloc(*slot, need);
        if (!grown)
            return -1;
        *slot = grown;
        *cap = need;
    }
    memmove(*slot, value, need);
    return 0;
}

int amp_handle_headers_unchanged(struct amp_handle *hs)
{
    const struct curl_slist *l;
    size_t n = 0, i = 0;

    for (l = hs->app.headers; l; l = l->next)
        n++;
    /* Compared by content: a list freed and built anew often lands on the
     * very same addresses. */
    if (!hs->hdrs.dirty && n == hs->hdrs.nsnap) {
        for (l = hs->app.headers; l; l = l->next, i++)
            if (!l->data || strcmp(hs->hdrs.snap[i], l->data) != 0)
                break;
        if (!l)
            return 1;
    }
    free_snap(hs);
    hs->hdrs.dirty = 0;
    if (!(hs->hdrs.snap = calloc(n ? n : 1, sizeof(*hs->hdrs.snap))))
        return 0;
    for (l = hs->app.headers; l; l = l->next) {
        if (!(hs->hdrs.snap[hs->hdrs.nsnap] = strdup(l->data ? l->data : "")))
            break;
        hs->hdrs.nsnap++;
    }
    if (hs->hdrs.nsnap != n) /* out of memory: never "unchanged" */
        hs->hdrs.dirty = 1;
    return 0;
}
