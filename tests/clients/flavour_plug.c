/* A plugin linked against the other libcurl flavour (libcurl-gnutls), as
 * pycurl is: loaded with dlopen(RTLD_LOCAL) by two_flavours.c, so its
 * libcurl is invisible to dlsym(RTLD_NEXT). */
#include <curl/curl.h>

int plug_fetch(const char *url, long *status);
int plug_fetch(const char *url, long *status)
{
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    return (int)rc;
}
