/* The multi interface: a transfer is routed when it is added and given
 * back when it ends (done, removed, or its multi handle cleaned up). */
#ifndef AMPSHIM_MULTI_H
#define AMPSHIM_MULTI_H

#include "curlapi.h"

CURLMcode amp_multi_add_handle(const void *caller, CURLM *multi, CURL *easy);
CURLMcode amp_multi_remove_handle(const void *caller, CURLM *multi, CURL *easy);
CURLMsg *amp_multi_info_read(const void *caller, CURLM *multi, int *queued);
CURLMcode amp_multi_cleanup(const void *caller, CURLM *multi);

#endif
