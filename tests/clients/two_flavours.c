/* Both libcurl flavours in one process: this program links libcurl
 * (OpenSSL); the plugin it loads with RTLD_LOCAL links libcurl-gnutls.
 * Each handle must reach the flavour that made it, or the host crashes.
 *   two_flavours PLUGIN URL1 URL2 [again]  ->  "main rc=0 status=200" / "plugin rc=0 status=200"
 * With "again", each handle's URL is set once more, to the same URL, and
 * the handle performs a second time (a line each). */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

int main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "again")))
        return 2;
    int times = argc == 5 ? 2 : 1;
    void *plug = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!plug) {
        printf("dlopen: %s\n", dlerror());
        return 2;
    }
    int (*fetch)(const char *, long *) = (int (*)(const char *, long *))dlsym(plug, "plug_fetch");
    int (*fetch_again)(const char *, long *, int) =
        (int (*)(const char *, long *, int))dlsym(plug, "plug_fetch_again");
    for (int round = 0; round < 2; round++) {
        CURL *h = curl_easy_init();
        long status = 0;
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        for (int i = 0; i < times; i++) {
            curl_easy_setopt(h, CURLOPT_URL, argv[2]);
            status = 0;
            CURLcode rc = curl_easy_perform(h);
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            printf("main rc=%d status=%ld\n", (int)rc, status);
        }
        curl_easy_cleanup(h);
        for (int i = 0; i < times; i++) {
            status = 0;
            int prc = times == 1 ? fetch(argv[3], &status) : fetch_again(argv[3], &status, i);
            printf("plugin rc=%d status=%ld\n", prc, status);
        }
    }
    return 0;
}
