/* A client linked against libcurl-gnutls (review17): one GET of argv[1], --resolve argv[2]. */
#include <curl/curl.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    (void)argc;
    CURL *h = curl_easy_init();
    struct curl_slist *r = curl_slist_append(NULL, argv[2]);
    curl_easy_setopt(h, CURLOPT_URL, argv[1]);
    curl_easy_setopt(h, CURLOPT_RESOLVE, r);
    CURLcode rc = curl_easy_perform(h);
    printf("\nrc=%d %s\n", rc, curl_version());
    curl_easy_cleanup(h);
    curl_slist_free_all(r);
    return 0;
}
