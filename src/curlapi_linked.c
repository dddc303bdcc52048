/* The function table for programs that link libcurl themselves: the
 * launcher and the unit tests. Never part of the preload library. */
#include "curlapi.h"

static const struct amp_curl linked = {
    .name = "linked libcurl",
    .easy_setopt = curl_easy_setopt,
    .easy_perform = curl_easy_perform,
    .easy_getinfo = curl_easy_getinfo,
    .easy_header = curl_easy_header,
    .getdate = curl_getdate,
    .easy_cleanup = curl_easy_cleanup,
    .easy_reset = curl_easy_reset,
    .easy_duphandle = curl_easy_duphandle,
    .multi_add_handle = curl_multi_add_handle,
    .multi_remove_handle = curl_multi_remove_handle,
    .multi_info_read = curl_multi_info_read,
    .multi_cleanup = curl_multi_cleanup,
    .slist_append = curl_slist_append,
    .slist_free_all = curl_slist_free_all,
    .url = curl_url,
    .url_cleanup = curl_url_cleanup,
    .url_set = curl_url_set,
    .url_get = curl_url_get,
    .free = curl_free,
};

const struct amp_curl *amp_curl_linked(void)
{
    return &linked;
}
