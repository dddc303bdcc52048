/* A handle's life beyond one perform:
 *   lifecycle_client dup URL1 URL2     duphandle, then each handle on its own
 *   lifecycle_client reset URL1 URL2   reset between two URLs
 *   lifecycle_client curlu URL PATH2   a CURLU, changed by the application in between
 *   lifecycle_client port URL          CURLOPT_PORT and CONNECT_TO pointing elsewhere
 *   lifecycle_client newlists URL      a new header list for every perform
 *   lifecycle_client nested URL1 URL2  handle B's URL set, and B performed, from A's callback
 *   lifecycle_client unrun URL MS      perform; wait MS; add to a multi and take it away unrun; perform
 *   lifecycle_client double-add URL    added to a multi twice, then run
 *   lifecycle_client nullcleanup URL   curl_multi_remove_handle(NULL, it) and
 *                                      curl_multi_cleanup(NULL) (both refused by libcurl)
 *                                      from the header callback, at the status line
 *   lifecycle_client resetcb URL       in a multi handle, the header callback resets the
 *                                      handle at the status line and stops the transfer;
 *                                      then the handle set up again and performed
 *   lifecycle_client multigone URL1 URL2 [N]  N handles (1) run URL1 in a multi handle,
 *                                      cleaned up with them still in it; then each
 *                                      performs URL2
 * Each perform prints "TAG rc=RC status=HTTP url=EFFECTIVE err=ERRBUF". */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[CURL_ERROR_SIZE];

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static CURL *make(const char *url)
{
    CURL *h = curl_easy_init();
    if (url)
        curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    return h;
}

static int run(const char *tag, CURL *h)
{
    long status = 0;
    char *eff = NULL;

    err[0] = '\0';
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
    printf("%s rc=%d status=%ld url=%s err=%s\n", tag, (int)rc, status, eff ? eff : "", err);
    return (int)rc;
}

/* m run until nothing runs; then, when tag is given, each message read
 * and printed as "TAG done=RESULT". */
static void drive(CURLM *m, const char *tag)
{
    int running = 1, queued;
    CURLMsg *msg;

    while (running) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    while (tag && (msg = curl_multi_info_read(m, &queued)))
        printf("%s done=%d\n", tag, (int)msg->data.result);
}

static CURL *nested_b;
static const char *nested_url;

static size_t nested_write(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    if (nested_url) {
        const char *url = nested_url;
        nested_url = NULL;
        curl_easy_setopt(nested_b, CURLOPT_URL, url);
        run("inner", nested_b);
    }
    return s * n;
}

static size_t cleanup_null(char *p, size_t s, size_t n, void *u)
{
    static int called;

    (void)p;
    if (!called) {
        called = 1;
        CURLMcode rc = curl_multi_remove_handle(NULL, u);
        printf("multi_remove_handle(NULL)=%s\n", rc == CURLM_BAD_HANDLE ? "refused" : "?");
        rc = curl_multi_cleanup(NULL);
        printf("multi_cleanup(NULL)=%s\n", rc == CURLM_BAD_HANDLE ? "refused" : "?");
    }
    return s * n;
}

static size_t reset_and_stop(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)s;
    (void)n;
    curl_easy_reset(u);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *mode = argv[1];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct curl_slist *hdrs = curl_slist_append(NULL, "X-App: 1");
    hdrs = curl_slist_append(hdrs, "Authorization: Bearer app-token");

    if (!strcmp(mode, "dup") && argc == 4) {
        CURL *a = make(argv[2]);
        curl_easy_setopt(a, CURLOPT_HTTPHEADER, hdrs);
        run("original", a);
        CURL *b = curl_easy_duphandle(a);
        run("copy", b);
        curl_easy_setopt(b, CURLOPT_URL, argv[3]);
        run("copy-url2", b);
        run("original-again", a);
        curl_easy_cleanup(b);
        run("original-after-copy-cleanup", a);
        curl_easy_cleanup(a);
    } else if (!strcmp(mode, "reset") && argc == 4) {
        CURL *a = make(argv[2]);
        curl_easy_setopt(a, CURLOPT_HTTPHEADER, hdrs);
        run("before-reset", a);
        curl_easy_reset(a);
        curl_easy_setopt(a, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(a, CURLOPT_URL, argv[3]);
        run("after-reset", a);
        curl_easy_cleanup(a);
    } else if (!strcmp(mode, "curlu") && argc == 4) {
        CURLU *u = curl_url();
        char *s = NULL;
        curl_url_set(u, CURLUPART_URL, argv[2], 0);
        CURL *a = make(NULL);
        curl_easy_setopt(a, CURLOPT_CURLU, u);
        run("curlu", a);
        curl_url_get(u, CURLUPART_URL, &s, 0);
        printf("curlu-now %s\n", s);
        curl_free(s);
        curl_url_set(u, CURLUPART_PATH, argv[3], 0);
        run("curlu-changed", a);
        curl_url_get(u, CURLUPART_URL, &s, 0);
        printf("curlu-now %s\n", s);
        curl_free(s);
        curl_easy_cleanup(a);
        curl_url_cleanup(u);
    } else if (!strcmp(mode, "port") && argc == 4) {
        /* argv[3]: a host:port the application would have gone to instead */
        char ct[256];
        snprintf(ct, sizeof(ct), "::%s", argv[3]);
        struct curl_slist *connect_to = curl_slist_append(NULL, ct);
        CURL *a = make(argv[2]);
        curl_easy_setopt(a, CURLOPT_PORT, atol(strchr(argv[3], ':') + 1));
        curl_easy_setopt(a, CURLOPT_CONNECT_TO, connect_to);
        curl_easy_setopt(a, CURLOPT_HEADEROPT, (long)CURLHEADER_UNIFIED);
        run("port", a);
        curl_easy_cleanup(a);
        curl_slist_free_all(connect_to);
    } else if (!strcmp(mode, "newlists")) {
        CURL *a = make(argv[2]);
        for (int i = 1; i <= 3; i++) {
            char line[64];
            snprintf(line, sizeof(line), "Idempotency-Key: request-%04d", i);
            struct curl_slist *l = curl_slist_append(NULL, line);
            curl_easy_setopt(a, CURLOPT_HTTPHEADER, l);
            run("newlist", a);
            curl_easy_setopt(a, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
            curl_slist_free_all(l);
        }
        curl_easy_cleanup(a);
    } else if (!strcmp(mode, "nested") && argc == 4) {
        CURL *a = make(argv[2]);
        nested_b = make(argv[2]);
        nested_url = argv[3];
        curl_easy_setopt(a, CURLOPT_WRITEFUNCTION, nested_write);
        run("outer", a);
        run("b-again", nested_b);
        curl_easy_cleanup(nested_b);
        curl_easy_cleanup(a);
    } else if (!strcmp(mode, "unrun") && argc == 4) {
        CURL *a = make(argv[2]);
        run("first", a);
        usleep((useconds_t)atol(argv[3]) * 1000);
        CURLM *m = curl_multi_init();
        curl_multi_add_handle(m, a);
        curl_multi_remove_handle(m, a);
        curl_multi_cleanup(m);
        run("after-unrun", a);
        curl_easy_cleanup(a);
    } else if (!strcmp(mode, "double-add")) {
        CURL *a = make(argv[2]);
        CURLM *m = curl_multi_init();
        CURLMcode first = curl_multi_add_handle(m, a), second = curl_multi_add_handle(m, a);
        drive(m, NULL);
        long status = 0;
        curl_easy_getinfo(a, CURLINFO_RESPONSE_CODE, &status);
        printf("double-add first=%d second=%d status=%ld\n", (int)first, (int)second, status);
        curl_multi_remove_handle(m, a);
        curl_multi_cleanup(m);
        curl_easy_cleanup(a);
    } else if (!strcmp(mode, "nullcleanup")) {
        CURL *a = make(argv[2]);
        curl_easy_setopt(a, CURLOPT_HEADERFUNCTION, cleanup_null);
        curl_easy_setopt(a, CURLOPT_HEADERDATA, a);
        run("nullcleanup", a);
        curl_easy_cleanup(a);
    } else if (!strcmp(mode, "resetcb")) {
        CURL *a = make(argv[2]);
        CURLM *m = curl_multi_init();
        curl_easy_setopt(a, CURLOPT_HEADERFUNCTION, reset_and_stop);
        curl_easy_setopt(a, CURLOPT_HEADERDATA, a);
        curl_multi_add_handle(m, a);
        drive(m, "resetcb");
        curl_multi_remove_handle(m, a);
        curl_multi_cleanup(m);
        curl_easy_setopt(a, CURLOPT_URL, argv[2]);
        curl_easy_setopt(a, CURLOPT_ERRORBUFFER, err);
        curl_easy_setopt(a, CURLOPT_WRITEFUNCTION, discard);
        run("after-reset", a);
        curl_easy_cleanup(a);
    } else if (!strcmp(mode, "multigone") && argc >= 4) {
        enum { MOST = 64 };
        CURL *x[MOST];
        int n = argc > 4 ? atoi(argv[4]) : 1;
        CURLM *m = curl_multi_init();
        if (n < 1 || n > MOST)
            return 2;
        for (int i = 0; i < n; i++) {
            x[i] = make(argv[2]);
            curl_easy_setopt(x[i], CURLOPT_HTTPHEADER, hdrs);
            curl_multi_add_handle(m, x[i]);
        }
        drive(m, "multigone");
        curl_multi_cleanup(m);
        for (int i = 0; i < n; i++) {
            curl_easy_setopt(x[i], CURLOPT_URL, argv[3]);
            run("after-multi", x[i]);
            curl_easy_cleanup(x[i]);
        }
    } else {
        return 2;
    }
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    return 0;
}
