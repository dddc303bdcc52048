/* A plugin linked against the other libcurl flavour (libcurl-gnutls), as
 * pycurl is: loaded with dlopen(RTLD_LOCAL) by two_flavours.c, so its
 * libcurl is invisible to dlsym(RTLD_NEXT). plug_fetch_again keeps one
 * handle: call 0 makes it and performs, call 1 sets the same URL again,
 * performs and cleans it up. */
#include <curl/curl.h>

/* One HEAD request on h: its result, and its status in *status. */
static int fetch_on(CURL *h, const char *url, long *status)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    return (int)rc;
}

int plug_fetch(const char *url, long *status);
int plug_fetch(const char *url, long *status)
{
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    int rc = fetch_on(h, url, status);
    curl_easy_cleanup(h);
    return rc;
}

int plug_fetch_again(const char *url, long *status, int call);
int plug_fetch_again(const char *url, long *status, int call)
{
    static CURL *h;

    if (call == 0)
        h = curl_easy_init();
    if (!h)
        return -1;
    int rc = fetch_on(h, url, status);
    if (call == 1) {
        curl_easy_cleanup(h);
        h = NULL;
    }
    return rc;
}
