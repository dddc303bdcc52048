/* Calls libcurl refuses (7.88: lib/easy.c, lib/multi.c), made on purpose;
 * each prints what libcurl answered:
 *   refused_client again URL1 URL2        a perform of URL1 (no route) whose
 *                                         PREREQFUNCTION sets URL2 (routed) and
 *                                         calls curl_easy_perform and
 *                                         curl_multi_add_handle on its own,
 *                                         running handle (both refused)
 *   refused_client again-multi URL1 URL2  the same, the transfer in a multi handle
 *   refused_client count URL1 URL2 URL3   URL1 (routed) performed; added to no
 *                                         multi handle, and to one from a callback
 *                                         of that one's transfer to URL3 (both
 *                                         refused); added and taken away unrun;
 *                                         added, given URL2 (routed) before it
 *                                         starts, run; performed again
 *   refused_client blocked URL1 URL3      URL1 added to no multi handle, and to
 *                                         one from a callback of its transfer to
 *                                         URL3 (both refused), then performed
 *   refused_client null                   curl_easy_perform(NULL),
 *                                         curl_multi_add_handle(multi, NULL)
 *   refused_client longurl URL            URL set, then an 8 MB URL (refused: too
 *                                         long), performed; URL again, performed;
 *                                         the 8 MB URL, performed
 * Each perform prints "TAG rc=RC status=HTTP err=ERRBUF". */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[CURL_ERROR_SIZE];
static const char *next_url;
static CURL *self, *wanted;
static CURLM *other;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static CURL *make(const char *url)
{
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    return h;
}

static void run(const char *tag, CURL *h)
{
    long status = 0;

    err[0] = '\0';
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    printf("%s rc=%d status=%ld err=%s\n", tag, (int)rc, status, err);
}

static void run_multi(CURLM *m)
{
    int running = 1, queued;
    CURLMsg *msg;

    while (running) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    while ((msg = curl_multi_info_read(m, &queued)))
        if (msg->msg == CURLMSG_DONE)
            printf("done rc=%d\n", (int)msg->data.result);
}

/* The request is about to go out: the handle is given its next URL and
 * started again, twice, while it runs. */
static int start_again(void *u, char *a, char *b, int c, int d)
{
    (void)u;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    if (next_url) {
        curl_easy_setopt(self, CURLOPT_URL, next_url);
        next_url = NULL;
        printf("inner perform=%d\n", (int)curl_easy_perform(self));
        printf("inner add=%d\n", (int)curl_multi_add_handle(other, self));
    }
    return CURL_PREREQFUNC_OK;
}

/* A transfer of the multi handle `other` adds `wanted` to it from its
 * header callback: CURLM_RECURSIVE_API_CALL. */
static size_t add_wanted(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    if (wanted) {
        printf("add from a callback=%d\n", (int)curl_multi_add_handle(other, wanted));
        wanted = NULL;
    }
    return s * n;
}

static void add_from_callback(CURL *h, const char *url)
{
    CURL *x = make(url);
    curl_easy_setopt(x, CURLOPT_HEADERFUNCTION, add_wanted);
    other = curl_multi_init();
    wanted = h;
    curl_multi_add_handle(other, x);
    run_multi(other);
    curl_multi_remove_handle(other, x);
    curl_multi_cleanup(other);
    curl_easy_cleanup(x);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *mode = argv[1];
    curl_global_init(CURL_GLOBAL_DEFAULT);

    if ((!strcmp(mode, "again") || !strcmp(mode, "again-multi")) && argc == 4) {
        self = make(argv[2]);
        curl_easy_setopt(self, CURLOPT_PREREQFUNCTION, start_again);
        other = curl_multi_init();
        next_url = argv[3];
        if (!strcmp(mode, "again")) {
            run("again", self);
        } else {
            CURLM *m = curl_multi_init();
            curl_multi_add_handle(m, self);
            run_multi(m);
            curl_multi_remove_handle(m, self);
            curl_multi_cleanup(m);
        }
        curl_multi_cleanup(other);
        curl_easy_cleanup(self);
    } else if (!strcmp(mode, "count") && argc == 5) {
        CURL *h = make(argv[2]);
        run("first", h);
        printf("add to none=%d\n", (int)curl_multi_add_handle(NULL, h));
        add_from_callback(h, argv[4]);
        CURLM *m = curl_multi_init();
        printf("add unrun=%d\n", (int)curl_multi_add_handle(m, h));
        curl_multi_remove_handle(m, h);
        printf("add=%d\n", (int)curl_multi_add_handle(m, h));
        curl_easy_setopt(h, CURLOPT_URL, argv[3]);
        run_multi(m);
        curl_multi_remove_handle(m, h);
        curl_multi_cleanup(m);
        run("last", h);
        curl_easy_cleanup(h);
    } else if (!strcmp(mode, "blocked") && argc == 4) {
        CURL *h = make(argv[2]);
        err[0] = '\0';
        CURLMcode none = curl_multi_add_handle(NULL, h);
        printf("add to none=%d err=%s\n", (int)none, err);
        add_from_callback(h, argv[3]);
        run("blocked", h);
        curl_easy_cleanup(h);
    } else if (!strcmp(mode, "null")) {
        CURLM *m = curl_multi_init();
        printf("perform(NULL)=%d\n", (int)curl_easy_perform(NULL));
        printf("add(multi, NULL)=%d\n", (int)curl_multi_add_handle(m, NULL));
        curl_multi_cleanup(m);
    } else if (!strcmp(mode, "longurl") && argc == 3) {
        /* Over libcurl's CURL_MAX_INPUT_LENGTH (8,000,000). */
        size_t n = 8000001 + strlen(argv[2]);
        char *big = malloc(n + 1);
        if (!big)
            return 1;
        memset(big, 'a', n);
        memcpy(big, argv[2], strlen(argv[2]));
        big[n] = '\0';
        CURL *h = make(argv[2]);
        printf("setopt(8 MB URL)=%d\n", (int)curl_easy_setopt(h, CURLOPT_URL, big));
        run("before", h);
        curl_easy_setopt(h, CURLOPT_URL, argv[2]);
        run("first", h);
        printf("setopt(8 MB URL)=%d\n", (int)curl_easy_setopt(h, CURLOPT_URL, big));
        run("after", h);
        free(big);
        curl_easy_cleanup(h);
    } else {
        return 2;
    }
    curl_global_cleanup();
    return 0;
}
