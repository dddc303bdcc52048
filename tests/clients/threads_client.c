/* Many threads, each with its own handle, all routed at once:
 *   threads_client THREADS REQUESTS URL_PREFIX [HOSTS]
 * Thread t requests URL_PREFIX/t<t>/<n>; prints "ok N failed M". With
 * HOSTS, each request is on a new handle (as PHP's curl_init makes one a
 * request) and its URL's host is "h<k>-" before URL_PREFIX's, k the
 * request's number (over every thread) modulo HOSTS: many new origins
 * decided at once by many threads. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prefix;
static int requests, hosts;
static int ok_count, failed_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static void *worker(void *arg)
{
    long t = (long)arg;
    int ok = 0, failed = 0;
    CURL *h = curl_easy_init();
    struct curl_slist *l = curl_slist_append(NULL, "X-Thread: yes");

    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    for (int i = 0; i < requests; i++) {
        char url[512];
        long status = 0;
        const char *host = strstr(prefix, "://");
        if (hosts && host) {
            /* A handle's first URL: a new handle for each request. */
            curl_easy_cleanup(h);
            h = curl_easy_init();
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
            snprintf(url, sizeof(url), "%.*sh%ld-%s/t%ld/%d", (int)(host + 3 - prefix), prefix,
                     (t * requests + i) % hosts, host + 3, t, i);
        } else {
            snprintf(url, sizeof(url), "%s/t%ld/%d", prefix, t, i);
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        if (curl_easy_perform(h) == CURLE_OK &&
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200)
            ok++;
        else
            failed++;
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(l);
    pthread_mutex_lock(&lock);
    ok_count += ok;
    failed_count += failed;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5)
        return 2;
    hosts = argc == 5 ? atoi(argv[4]) : 0;
    int n = atoi(argv[1]);
    requests = atoi(argv[2]);
    prefix = argv[3];
    pthread_t th[64];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (long t = 0; t < n && t < 64; t++)
        pthread_create(&th[t], NULL, worker, (void *)t);
    for (int t = 0; t < n && t < 64; t++)
        pthread_join(th[t], NULL);
    curl_global_cleanup();
    printf("ok %d failed %d\n", ok_count, failed_count);
    return failed_count ? 1 : 0;
}
