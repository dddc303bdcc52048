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

#include "forksafe.h"

static struct amp_handle *table;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The handle this thread used last, found again without the lock: a
 * program mostly works one handle at a time. Any entry taken out of the
 * table moves `taken` on, and every such memory is then asked again. */
static atomic_uint taken;
static __thread struct {
    CURL *easy;
    struct amp_handle *hs;
    unsigned taken;
} last;

AMP_FORK_SAFE(lock)

struct amp_handle *amp_handle_find(CURL *easy, const struct amp_curl *c, int create)
{
    struct amp_handle *hs = NULL;
    unsigned now = atomic_load_explicit(&taken, memory_order_acquire);

    if (last.easy == easy && last.taken == now && last.hs)
        return last.hs;
    pthread_mutex_lock(&lock);
    HASH_FIND_PTR(table, &easy, hs);
    if (!hs && create && (hs = calloc(1, sizeof(*hs)))) {
        hs->easy = easy;
        hs->c = c;
        hs->app.headeropt = CURLHEADER_SEPARATE; /* libcurl's defaults */
        hs->app.verify_peer = 1;
        hs->app.verify_host = 2;
        hs->answer_fd = hs->answer_listen = -1;
        amp_hash_oom = 0;
        HASH_ADD_PTR(table, easy, hs);
        if (amp_hash_oom) {
            free(hs);
            hs = NULL;
        }
    }
    pthread_mutex_unlock(&lock);
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

    pthread_mutex_lock(&lock);
    HASH_FIND_PTR(table, &easy, hs);
    if (hs) {
        HASH_DEL(table, hs);
        atomic_fetch_add_explicit(&taken, 1, memory_order_acq_rel);
    }
    pthread_mutex_unlock(&lock);
    return hs;
}

void amp_handle_each_on(CURLM *multi, void (*fn)(struct amp_handle *, void *), void *arg)
{
    struct amp_handle *hs, *tmp, **on = NULL;
    size_t n = 0, cap = 0;

    /* Collected under the lock, visited without it: fn calls libcurl. */
    pthread_mutex_lock(&lock);
    HASH_ITER(hh, table, hs, tmp) {
        if (hs->multi != multi)
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
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < n; i++)
        fn(on[i], arg);
    free(on);
}

static void free_snap(struct amp_handle *hs)
{
    for (size_t i = 0; i < hs->nsnap; i++)
        free(hs->snap[i]);
    free(hs->snap);
    hs->snap = NULL;
    hs->nsnap = 0;
}

void amp_handle_drop_ours(struct amp_handle *hs)
{
    if (hs->our_headers)
        hs->c->slist_free_all(hs->our_headers);
    hs->our_headers = NULL;
    hs->headers_route = NULL;
}

void amp_handle_free(struct amp_handle *hs)
{
    if (!hs)
        return;
    amp_handle_drop_ours(hs);
    free_snap(hs);
    if (hs->extra_headers)
        hs->c->slist_free_all(hs->extra_headers);
    free(hs->app.url);
    free(hs->app.noproxy);
    free(hs->app.interface);
    free(hs->app.unix_socket);
    free(hs->app.protocols_str);
    free(hs->app.doh_url);
    free(hs->app.pinned);
    free(hs->answer);
    if (hs->answer_fd >= 0)
        close(hs->answer_fd);
    if (hs->answer_listen >= 0)
        close(hs->answer_listen);
    free(hs->decided_url);
    free(hs->redirect_url);
    amp_url_memo_free(&hs->memo);
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
    /* Every string we hold a copy of: the copy's own. */
    static const size_t strings[] = {
        offsetof(struct amp_app_options, url),         offsetof(struct amp_app_options, noproxy),
        offsetof(struct amp_app_options, interface),   offsetof(struct amp_app_options, unix_socket),
        offsetof(struct amp_app_options, protocols_str), offsetof(struct amp_app_options, doh_url),
        offsetof(struct amp_app_options, pinned),
    };
    char *mine[sizeof(strings) / sizeof(strings[0])];
    int rc = 0;

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        mine[i] = *(char **)((char *)&to->app + strings[i]);
    to->app = from->app;
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        char **slot = (char **)((char *)&to->app + strings[i]);
        *slot = mine[i];
        rc |= set_string(slot, *(char *const *)((const char *)&from->app + strings[i]));
    }
    return rc;
}

int amp_handle_set_url(struct amp_handle *hs, const char *url)
{
    return set_string(&hs->app.url, url);
}

int amp_handle_set_noproxy(struct amp_handle *hs, const char *noproxy)
{
    return set_string(&hs->app.noproxy, noproxy);
}

int amp_handle_set_string(char **slot, const char *value)
{
    return set_string(slot, value);
}

/* The last of CURLOPT_PROTOCOLS and CURLOPT_PROTOCOLS_STR wins, as in libcurl. */
int amp_handle_set_protocols(struct amp_handle *hs, long mask, const char *names)
{
    hs->app.protocols = mask;
    return set_string(&hs->app.protocols_str, names);
}

int amp_handle_set_unix_socket(struct amp_handle *hs, const char *path, int abstract)
{
    hs->app.unix_abstract = abstract;
    return set_string(&hs->app.unix_socket, path);
}

int amp_handle_headers_unchanged(struct amp_handle *hs)
{
    const struct curl_slist *l;
    size_t n = 0, i = 0;

    for (l = hs->app.headers; l; l = l->next)
        n++;
    /* Compared by content: a list freed and built anew often lands on the
     * very same addresses. */
    if (!hs->headers_dirty && n == hs->nsnap) {
        for (l = hs->app.headers; l; l = l->next, i++)
            if (!l->data || strcmp(hs->snap[i], l->data) != 0)
                break;
        if (!l)
            return 1;
    }
    free_snap(hs);
    hs->headers_dirty = 0;
    if (!(hs->snap = calloc(n ? n : 1, sizeof(*hs->snap))))
        return 0;
    for (l = hs->app.headers; l; l = l->next) {
        if (!(hs->snap[hs->nsnap] = strdup(l->data ? l->data : "")))
            break;
        hs->nsnap++;
    }
    if (hs->nsnap != n) /* out of memory: never "unchanged" */
        hs->headers_dirty = 1;
    return 0;
}
