/* The function table for programs that link libcurl themselves: the
 * launcher and the unit tests. Never part of the preload library. */
#include "curlapi.h"

#define LINK(ret, name, params, required) .name = curl_##name,
static const struct amp_curl linked = { .name = "linked libcurl", AMP_CURL_API(LINK) };
#undef LINK

const struct amp_curl *amp_curl_linked(void)
{
    return &linked;
}
