/* Many threads, each with its own handle, all routed at once:
 *   threads_client THREADS REQUESTS URL_PREFIX
 * Thread t requests URL_PREFIX/t<t>/<n>; prints "ok N failed M". */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static const char *prefix;
static int requests;
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
        snprintf(url, sizeof(url), "%s/t%ld/%d", prefix, t, i);
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
    if (argc != 4)
        return 2;
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
