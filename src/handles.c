/* The per-handle table: a pointer-keyed uthash under one mutex, held only
 * for the look-up itself. */
#define _GNU_SOURCE
#include "handles.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

static struct amp_handle *table;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void lock_prepare(void) { pthread_mutex_lock(&lock); }
static void lock_release(void) { pthread_mutex_unlock(&lock); }
/* The child of a fork has only the forking thread: the lock is taken
 * before the fork, so the table is consistent and can simply be let go. */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) { pthread_atfork(lock_prepare, lock_release, lock_release); }

struct amp_handle *amp_handle_find(CURL *easy, const struct amp_curl *c, int create)
{
    struct amp_handle *hs = NULL;

    if (create)
        pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&lock);
    HASH_FIND_PTR(table, &easy, hs);
    if (!hs && create && (hs = calloc(1, sizeof(*hs)))) {
        hs->easy = easy;
        hs->c = c;
        amp_hash_oom = 0;
        HASH_ADD_PTR(table, easy, hs);
        if (amp_hash_oom) {
            free(hs);
            hs = NULL;
        }
    }
    pthread_mutex_unlock(&lock);
    return hs;
}

void amp_handle_drop_ours(struct amp_handle *hs)
{
    if (hs->our_headers)
        hs->c->slist_free_all(hs->our_headers);
    hs->our_headers = NULL;
    hs->headers_route = NULL;
    hs->nsnap = 0;
}

void amp_handle_forget(CURL *easy)
{
    struct amp_handle *hs = NULL;

    pthread_mutex_lock(&lock);
    HASH_FIND_PTR(table, &easy, hs);
    if (hs)
        HASH_DEL(table, hs);
    pthread_mutex_unlock(&lock);
    if (!hs)
        return;
    amp_handle_drop_ours(hs);
    free(hs->app_url);
    free(hs->proxy_url);
    free(hs->snap);
    free(hs);
}

int amp_handle_set_url(struct amp_handle *hs, const char *url)
{
    char *copy = NULL;

    if (hs->app_url && url && strcmp(hs->app_url, url) == 0)
        return 0;
    if (url && !(copy = strdup(url)))
        return -1;
    free(hs->app_url);
    hs->app_url = copy;
    free(hs->proxy_url);
    hs->proxy_url = NULL;
    hs->route = NULL;
    hs->decided = 0;
    return 0;
}

void amp_handle_set_headers(struct amp_handle *hs, struct curl_slist *list)
{
    hs->app_headers = list;
}

int amp_handle_headers_unchanged(struct amp_handle *hs)
{
    size_t n = 0, i = 0;
    const struct curl_slist *l;

    for (l = hs->app_headers; l; l = l->next)
        n += 2;
    if (n == hs->nsnap) {
        for (l = hs->app_headers; l; l = l->next, i += 2)
            if (hs->snap[i] != l || hs->snap[i + 1] != l->data)
                break;
        if (!l)
            return 1;
    }
    const void **snap = realloc(hs->snap, (n ? n : 1) * sizeof(*snap));
    if (!snap) {
        hs->nsnap = (size_t)-1; /* never equal: rebuild every time */
        return 0;
    }
    hs->snap = snap;
    for (i = 0, l = hs->app_headers; l; l = l->next, i += 2) {
        snap[i] = l;
        snap[i + 1] = l->data;
    }
    hs->nsnap = n;
    return 0;
}
