/* The application's own verbose output (CURLOPT_VERBOSE) of a routed
 * transfer shows the headers sent, ours among them: the API key is masked
 * there too before the application's debug callback, or libcurl's default
 * output, sees it. */
#ifndef AMPSHIM_TRACE_H
#define AMPSHIM_TRACE_H

#include "curlapi.h"

/* CURLOPT_DEBUGFUNCTION; userdata is the struct amp_handle. */
int amp_trace_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata);

#endif
