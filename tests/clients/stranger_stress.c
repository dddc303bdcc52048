/* A handle per request on threads, alternating a routed origin and the
 * third host, with verbose output to a file of the program's own
 * (CURLOPT_STDERR), header lists of 1 to 6 lines, and a multi handle of
 * several transfers at once with options set after it was added. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *sf, *third, *dir;
static int port, errors;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static void setup(CURL *h, int t, int i, int routed, FILE *err, struct curl_slist **hl, int proxyline)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/%c/%d/%d", routed ? sf : third, routed ? 'r' : 't', t, i);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    if (routed) {
        curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
        curl_easy_setopt(h, CURLOPT_STDERR, err);
        for (int k = 0; k <= (i % 6); k++) {
            char line[64];
            snprintf(line, sizeof(line), "X-L%d: %d", k, i);
            *hl = curl_slist_append(*hl, line);
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hl);
        if (i % 3 == 0)
            curl_easy_setopt(h, CURLOPT_PORT, (long)port);
        if (i % 3 == 1 && proxyline)
            curl_easy_setopt(h, CURLOPT_HAPROXYPROTOCOL, 1L);
    }
}

static void *work(void *arg)
{
    int t = (int)(long)arg;
    char path[512];
    snprintf(path, sizeof(path), "%s/verbose%d.txt", dir, t);
    FILE *err = fopen(path, "w");
    for (int i = 0; i < 40; i++) {
        int routed = (i + t) % 2 == 0;
        struct curl_slist *hl = NULL;
        CURL *h = curl_easy_init();
        setup(h, t, i, routed, err, &hl, 1);
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (rc || code != 200) {
            pthread_mutex_lock(&lock);
            errors++;
            fprintf(stdout, "easy t%d i%d rc=%d code=%ld\n", t, i, rc, code);
            pthread_mutex_unlock(&lock);
        }
        curl_easy_cleanup(h);
        curl_slist_free_all(hl);
    }
    /* A multi of six, the URL of half changed to the third host after they were added. */
    CURLM *m = curl_multi_init();
    CURL *hs[6];
    struct curl_slist *hls[6] = {0};
    for (int i = 0; i < 6; i++) {
        hs[i] = curl_easy_init();
        /* (Not the PROXY line on one that goes to the third host: the mock reads no such line.) */
        setup(hs[i], t, 100 + i, 1, err, &hls[i], i % 2 == 0);
        curl_multi_add_handle(m, hs[i]);
        if (i % 2) {
            char url[512];
            snprintf(url, sizeof(url), "%s/late/%d/%d", third, t, i);
            curl_easy_setopt(hs[i], CURLOPT_URL, url);
            curl_easy_setopt(hs[i], CURLOPT_FOLLOWLOCATION, 1L);
        }
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 200, NULL);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE && msg->data.result) {
            pthread_mutex_lock(&lock);
            errors++;
            char *eu = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_EFFECTIVE_URL, &eu);
            fprintf(stdout, "multi t%d rc=%d %s\n", t, msg->data.result, eu ? eu : "-");
            pthread_mutex_unlock(&lock);
        }
    for (int i = 0; i < 6; i++) {
        curl_multi_remove_handle(m, hs[i]);
        curl_easy_cleanup(hs[i]);
        curl_slist_free_all(hls[i]);
    }
    curl_multi_cleanup(m);
    fclose(err);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[6];
    if (argc < 5)
        return 2;
    sf = argv[1];
    third = argv[2];
    port = atoi(argv[3]);
    dir = argv[4];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (long t = 0; t < 6; t++)
        pthread_create(&th[t], NULL, work, (void *)t);
    for (int t = 0; t < 6; t++)
        pthread_join(th[t], NULL);
    printf("errors=%d\n", errors);
    return 0;
}
