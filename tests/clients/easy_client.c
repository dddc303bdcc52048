/* A small libcurl program of our own, run under the preload by the
 * integration tests: one easy handle, re-used for every URL given.
 *
 *   easy_client [-X METHOD] [-H LINE]... [--upload FILE] [--repeat N] [-L 1] [--lines 1] URL...
 *
 * Each perform prints one line on stdout:
 *   perform N: rc=RC status=HTTP url=EFFECTIVE_URL headers=intact|CHANGED err=ERRBUF
 * and with --lines 1, a header callback of its own counts the response
 * header lines it is handed (status and blank lines included):
 *   ... err=ERRBUF lines=N
 * --upload streams FILE through a READFUNCTION with no size (chunked). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static size_t count_lines(char *p, size_t s, size_t n, void *u)
{
    for (size_t i = 0; i < s * n; i++)
        *(long *)u += p[i] == '\n';
    return s * n;
}

static size_t read_file(char *buf, size_t size, size_t n, void *f)
{
    /* Small reads, so the upload really is streamed in pieces. */
    size_t want = size * n < 7 ? size * n : 7;
    return fread(buf, 1, want, f);
}

int main(int argc, char **argv)
{
    const char *method = NULL, *upload = NULL, *hdrs[32];
    char *copies[32];
    int nh = 0, repeat = 1, i = 1, follow = 0, lines = 0;
    long seen = 0;
    struct curl_slist *list = NULL;
    char errbuf[CURL_ERROR_SIZE];

    for (; i < argc && argv[i][0] == '-'; i += 2) {
        if (i + 1 >= argc)
            return 2;
        if (!strcmp(argv[i], "-X"))
            method = argv[i + 1];
        else if (!strcmp(argv[i], "-H") && nh < 32)
            hdrs[nh++] = argv[i + 1];
        else if (!strcmp(argv[i], "--upload"))
            upload = argv[i + 1];
        else if (!strcmp(argv[i], "--repeat"))
            repeat = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-L"))
            follow = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--lines"))
            lines = atoi(argv[i + 1]);
        else
            return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    for (int k = 0; k < nh; k++)
        list = curl_slist_append(list, hdrs[k]);
    /* What the list held, to prove afterwards it was not modified. */
    int k = 0;
    for (struct curl_slist *l = list; l; l = l->next)
        copies[k++] = strdup(l->data);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (list)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    if (method)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, (long)follow);
    if (lines) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, count_lines);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &seen);
    }
    int n = 0, failures = 0;
    for (; i < argc; i++) {
        curl_easy_setopt(h, CURLOPT_URL, argv[i]);
        for (int r = 0; r < repeat; r++) {
            FILE *f = NULL;
            if (upload) {
                f = fopen(upload, "rb");
                if (!f)
                    return 2;
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, read_file);
                curl_easy_setopt(h, CURLOPT_READDATA, f);
            }
            errbuf[0] = '\0';
            seen = 0;
            CURLcode rc = curl_easy_perform(h);
            long status = 0;
            char *eff = NULL;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
            int intact = 1;
            k = 0;
            for (struct curl_slist *l = list; l; l = l->next, k++)
                intact &= strcmp(l->data, copies[k]) == 0;
            intact &= k == nh;
            printf("perform %d: rc=%d status=%ld url=%s headers=%s err=%s", ++n, (int)rc, status,
                   eff ? eff : "", intact ? "intact" : "CHANGED", errbuf);
            if (lines)
                printf(" lines=%ld", seen);
            printf("\n");
            failures += rc != CURLE_OK;
            if (f)
                fclose(f);
        }
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(list);
    for (k = 0; k < nh; k++)
        free(copies[k]);
    curl_global_cleanup();
    return failures ? 1 : 0;
}
