/* The multi interface: a transfer is routed when it is added and given
 * back when it ends (done, removed, or its multi handle cleaned up).
 * c and internal as in easy.h. */
#ifndef AMPSHIM_MULTI_H
#define AMPSHIM_MULTI_H

#include "curlapi.h"

CURLMcode amp_multi_add_handle(const struct amp_curl *c, int internal, CURLM *multi, CURL *easy);
CURLMcode amp_multi_remove_handle(const struct amp_curl *c, int internal, CURLM *multi,
                                  CURL *easy);
CURLMsg *amp_multi_info_read(const struct amp_curl *c, int internal, CURLM *multi, int *queued);
CURLMcode amp_multi_cleanup(const struct amp_curl *c, int internal, CURLM *multi);

#endif
