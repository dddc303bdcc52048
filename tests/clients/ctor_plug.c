/* A plugin that uses curl from its constructor and destructor, which run
 * with the dynamic loader's lock held. */
#include <curl/curl.h>

static CURL *h;
__attribute__((constructor)) static void init(void)
{
    h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
}
__attribute__((destructor)) static void fini(void)
{
    curl_easy_cleanup(h);
}
