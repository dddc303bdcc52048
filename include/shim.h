/* The process's configuration, loaded once, on the first curl call. */
#ifndef AMPSHIM_SHIM_H
#define AMPSHIM_SHIM_H

#include "config.h"
#include "curlapi.h"

enum amp_mode {
    AMP_OFF,     /* no config: stay out of the way */
    AMP_ON,      /* route by cfg */
    AMP_BROKEN,  /* a config was meant but cannot be used: fail closed */
};

struct amp_shim {
    enum amp_mode mode;
    struct amp_config *cfg;
    char error[512];  /* why BROKEN: "FILE:LINE: what is wrong" */
};

const struct amp_shim *amp_shim_get(const struct amp_curl *c);

#endif
