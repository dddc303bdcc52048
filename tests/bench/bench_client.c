/* The benchmark's client: one easy handle, kept alive, N requests.
 *
 *   bench_client [--pad K] [--hdrcb] [--noproxy] URL_BASE N same|vary|fresh time|count PORT [HEADER...]
 *
 * Request i goes to URL_BASE/items (same, fresh) or URL_BASE/items/<i>?page=<i>
 * (vary); CURLOPT_URL is set before every perform, as real programs do, and
 * a small header list is set once: Accept, User-Agent, then any HEADER given
 * (the benchmark's "native" baseline sends ampshim's headers itself). With
 * "fresh" each request has a handle of its own, made, given its options,
 * performed and cleaned up, as PHP's curl_init() and many a program do: a
 * new connection each (an easy handle's connections go with it). Every
 * request must succeed with a 200, the whole body, and a connection to
 * 127.0.0.1:PORT (the upstream, whether reached directly or through the
 * proxy route), else the client stops with exit status 1 and says why.
 *
 * --hdrcb reads the answers' header lines with a header callback of its
 * own (CURLOPT_HEADERFUNCTION and HEADERDATA, counting them), as the curl
 * tool, PHP, R and git do; a request none reached fails.
 *
 * --noproxy sets CURLOPT_NOPROXY "*" once, as ampshim does on a routed
 * transfer when the proxy is plain http on loopback: libcurl then skips its
 * look-ups of the proxy environment variables (http_proxy, all_proxy,
 * no_proxy, ...: a getenv each, on every transfer, so from several hundred
 * to a few thousand instructions a request, as the environment is small or
 * large). The benchmark's
 * "native" baseline uses it, so that it pays what ampshim's run pays.
 *
 * "time" measures each perform with CLOCK_MONOTONIC; "count" does not (for
 * the callgrind runs). On success one line on stdout:
 *   ok requests=N connects=C median_us=M       (median_us=- with "count")
 * where C is the number of connections libcurl opened (1 when kept alive). */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_LEN 17 /* what the upstream answers */

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    *(size_t *)u += s * n;
    return s * n;
}

/* --hdrcb: the lines of the answer, counted. */
static size_t count_line(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (*(long *)u)++;
    return s * n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --pad K: the heap given another shape before libcurl allocates anything
 * (K blocks of growing sizes, every other one freed again): glibc's malloc
 * takes other paths for the same calls on another heap, by a few hundred
 * instructions a request either way, so the benchmark counts each kind of
 * run on several shapes and takes the mean (tests/bench/bench.py). */
static void pad_heap(long k)
{
    static void *kept[4096];

    for (long i = 0; i < k && i < 4096; i++)
        kept[i] = malloc((size_t)(24 + 40 * i));
    for (long i = 0; i < k && i < 4096; i += 2) {
        free(kept[i]);
        kept[i] = NULL;
    }
}

/* A handle with the client's options (all but the URL). */
static CURL *handle(struct curl_slist *hdrs, size_t *got, char *errbuf, long *lines, int noproxy)
{
    CURL *h = curl_easy_init();

    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, got);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (lines) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, count_line);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, lines);
    }
    if (noproxy)
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    return h;
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "--pad")) {
        pad_heap(strtol(argv[2], NULL, 10));
        argv += 2;
        argc -= 2;
    }
    int hdrcb = argc > 1 && !strcmp(argv[1], "--hdrcb");
    if (hdrcb) {
        argv++;
        argc--;
    }
    int noproxy = argc > 1 && !strcmp(argv[1], "--noproxy");
    if (noproxy) {
        argv++;
        argc--;
    }
    if (argc < 6 || (strcmp(argv[3], "same") && strcmp(argv[3], "vary") && strcmp(argv[3], "fresh")) ||
        (strcmp(argv[4], "time") && strcmp(argv[4], "count"))) {
        fprintf(stderr,
                "usage: bench_client [--pad K] [--hdrcb] [--noproxy] URL_BASE N same|vary|fresh "
                "time|count PORT [HEADER...]\n");
        return 2;
    }
    const char *base = argv[1];
    long n = strtol(argv[2], NULL, 10), port = strtol(argv[5], NULL, 10);
    int vary = !strcmp(argv[3], "vary"), fresh = !strcmp(argv[3], "fresh");
    int timing = !strcmp(argv[4], "time");
    if (n < 1) {
        fprintf(stderr, "bench_client: N must be at least 1\n");
        return 2;
    }
    double *us = timing ? malloc((size_t)n * sizeof(*us)) : NULL;
    if (timing && !us)
        return 1;

    char url[4096], errbuf[CURL_ERROR_SIZE];
    size_t got = 0;
    long connects = 0, lines = 0, *linesp = hdrcb ? &lines : NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    hdrs = curl_slist_append(hdrs, "User-Agent: ampshim-bench/1");
    for (int k = 6; k < argc && hdrs; k++)
        hdrs = curl_slist_append(hdrs, argv[k]);
    CURL *h = fresh ? NULL : handle(hdrs, &got, errbuf, linesp, noproxy);
    if (!hdrs || (!fresh && !h)) {
        fprintf(stderr, "bench_client: curl_easy_init failed\n");
        return 1;
    }

    for (long i = 0; i < n; i++) {
        if (vary)
            snprintf(url, sizeof(url), "%s/items/%ld?page=%ld", base, i, i);
        else
            snprintf(url, sizeof(url), "%s/items", base);
        if (fresh && !(h = handle(hdrs, &got, errbuf, linesp, noproxy))) {
            fprintf(stderr, "bench_client: curl_easy_init failed\n");
            return 1;
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        errbuf[0] = '\0';
        got = 0;
        lines = 0;

        struct timespec t0, t1;
        if (timing)
            clock_gettime(CLOCK_MONOTONIC, &t0);
        CURLcode rc = curl_easy_perform(h);
        if (timing) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            us[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
        }

        long code = 0, pport = 0, nconn = 0;
        char *ip = NULL;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &pport);
        curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip);
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn);
        connects += nconn;
        if (rc != CURLE_OK || code != 200 || got != BODY_LEN || pport != port || !ip ||
            strcmp(ip, "127.0.0.1") != 0 || (hdrcb && lines < 2)) {
            fprintf(stderr,
                    "bench_client: request %ld to %s failed: rc=%d (%s) status=%ld body=%zu bytes "
                    "peer=%s:%ld (expected 127.0.0.1:%ld) header lines=%ld\n",
                    i, url, (int)rc, errbuf[0] ? errbuf : curl_easy_strerror(rc), code, got,
                    ip ? ip : "?", pport, port, lines);
            return 1;
        }
        if (fresh) {
            curl_easy_cleanup(h);
            h = NULL;
        }
    }

    if (timing) {
        qsort(us, (size_t)n, sizeof(*us), cmp_double);
        double med = n % 2 ? us[n / 2] : (us[n / 2 - 1] + us[n / 2]) / 2;
        printf("ok requests=%ld connects=%ld median_us=%.3f\n", n, connects, med);
    } else {
        printf("ok requests=%ld connects=%ld median_us=-\n", n, connects);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    free(us);
    return 0;
}
