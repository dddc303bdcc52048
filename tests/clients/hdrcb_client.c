/* One handle kept from transfer to transfer with a header callback of the
 * application's, which may set options from inside itself, as programs do
 * (the curl tool, PHP, R): what it received is printed byte for byte. Each
 * argument is a step:
 *   url=URL  hdr=LINE (a new list of one line)  verbose=0|1  follow=0|1
 *   cb         the header callback on (CURLOPT_HEADERFUNCTION and HEADERDATA)
 *   at=PREFIX:ACTION  in the next transfer, at the first header line starting
 *              with PREFIX, the callback does ACTION: url=URL, hdr=LINE,
 *              verbose=0|1, follow=0|1, stop (returns 0), other (sets another
 *              header callback, which marks each line it gets with '+'),
 *              cookies (libcurl's cookie engine on: CURLOPT_COOKIEFILE "")
 *   jar        prints "jar LINE" for each cookie libcurl holds
 *   perform    prints "TAG rc=RC status=HTTP lines=LINES", LINES every byte
 *              the header callbacks received, CR and LF as \r and \n */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CURL *h;
static char got[65536];
static size_t used;
static const char *at_prefix, *at_action;
static struct curl_slist *list, *cb_list;

static void keep(const char *p, size_t len)
{
    for (size_t i = 0; i < len && used + 3 < sizeof(got); i++) {
        if (p[i] == '\r' || p[i] == '\n') {
            got[used++] = '\\';
            got[used++] = p[i] == '\r' ? 'r' : 'n';
        } else {
            got[used++] = p[i];
        }
    }
    got[used] = '\0';
}

static size_t other(char *p, size_t s, size_t n, void *u)
{
    (void)u;
    keep("+", 1);
    keep(p, s * n);
    return s * n;
}

static size_t on_header(char *p, size_t s, size_t n, void *u)
{
    (void)u;
    keep(p, s * n);
    if (!at_prefix || strncmp(p, at_prefix, strlen(at_prefix)) != 0)
        return s * n;
    const char *a = at_action;
    at_prefix = NULL;
    if (strcmp(a, "stop") == 0)
        return 0;
    if (strncmp(a, "url=", 4) == 0)
        curl_easy_setopt(h, CURLOPT_URL, a + 4);
    else if (strncmp(a, "hdr=", 4) == 0) {
        cb_list = curl_slist_append(NULL, a + 4);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, cb_list);
    } else if (strncmp(a, "verbose=", 8) == 0)
        curl_easy_setopt(h, CURLOPT_VERBOSE, atol(a + 8));
    else if (strncmp(a, "follow=", 7) == 0)
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, atol(a + 7));
    else if (strcmp(a, "other") == 0)
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, other);
    else if (strcmp(a, "cookies") == 0)
        curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
    return s * n;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

int main(int argc, char **argv)
{
    int n = 0;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "url=", 4) == 0) {
            curl_easy_setopt(h, CURLOPT_URL, a + 4);
        } else if (strncmp(a, "hdr=", 4) == 0) {
            list = curl_slist_append(NULL, a + 4);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
        } else if (strncmp(a, "verbose=", 8) == 0) {
            curl_easy_setopt(h, CURLOPT_VERBOSE, atol(a + 8));
        } else if (strncmp(a, "follow=", 7) == 0) {
            curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, atol(a + 7));
        } else if (strcmp(a, "cb") == 0) {
            curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
            curl_easy_setopt(h, CURLOPT_HEADERDATA, h);
        } else if (strncmp(a, "at=", 3) == 0 && strchr(a + 3, ':')) {
            static char pre[256];
            size_t len = (size_t)(strchr(a + 3, ':') - (a + 3));
            snprintf(pre, sizeof(pre), "%.*s", (int)len, a + 3);
            at_prefix = pre;
            at_action = a + 3 + len + 1;
        } else if (strcmp(a, "jar") == 0) {
            struct curl_slist *cookies = NULL;
            curl_easy_getinfo(h, CURLINFO_COOKIELIST, &cookies);
            for (struct curl_slist *c = cookies; c; c = c->next)
                printf("jar %s\n", c->data);
            curl_slist_free_all(cookies);
        } else if (strcmp(a, "perform") == 0) {
            long status = 0;
            used = 0;
            got[0] = '\0';
            CURLcode rc = curl_easy_perform(h);
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            printf("perform-%d rc=%d status=%ld lines=%s\n", ++n, (int)rc, status, got);
            fflush(stdout);
        } else {
            fprintf(stderr, "hdrcb_client: unknown step %s\n", a);
            return 2;
        }
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(list);
    curl_slist_free_all(cb_list);
    curl_global_cleanup();
    return 0;
}
