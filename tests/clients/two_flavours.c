/* Both libcurl flavours in one process: this program links libcurl
 * (OpenSSL); the plugin it loads with RTLD_LOCAL links libcurl-gnutls.
 * Each handle must reach the flavour that made it, or the host crashes.
 *   two_flavours PLUGIN URL1 URL2   ->  "main rc=0 status=200" / "plugin rc=0 status=200" */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    void *plug = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!plug) {
        printf("dlopen: %s\n", dlerror());
        return 2;
    }
    int (*fetch)(const char *, long *) = (int (*)(const char *, long *))dlsym(plug, "plug_fetch");
    for (int round = 0; round < 2; round++) {
        CURL *h = curl_easy_init();
        long status = 0;
        curl_easy_setopt(h, CURLOPT_URL, argv[2]);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        printf("main rc=%d status=%ld\n", (int)rc, status);
        status = 0;
        int prc = fetch(argv[3], &status);
        printf("plugin rc=%d status=%ld\n", prc, status);
    }
    return 0;
}
