/* libcurl's global initialisation: the moment, at the latest, the config is
 * read. PHP, Apache and most servers initialise libcurl in the parent,
 * before they drop privileges and fork their workers: a config and key
 * readable by root alone are read there, and the workers inherit them.
 * c and internal as in easy.h. */
#ifndef AMPSHIM_GLOBAL_H
#define AMPSHIM_GLOBAL_H

#include "curlapi.h"

CURLcode amp_global_init(const struct amp_curl *c, int internal, long flags);
CURLcode amp_global_init_mem(const struct amp_curl *c, int internal, long flags,
                             curl_malloc_callback m, curl_free_callback f, curl_realloc_callback r,
                             curl_strdup_callback s, curl_calloc_callback ca);

#endif
