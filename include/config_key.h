/* What the launcher and the library ask of the file that holds a config's
 * API key (config_key.c): may others read it? */
#ifndef AMPSHIM_CONFIG_KEY_H
#define AMPSHIM_CONFIG_KEY_H

#include <stddef.h>

struct amp_config;

/* 1 with a sentence in msg ("PATH holds the API key and is readable by
 * others: chmod 600 PATH") when the file cfg's key was read from (the
 * config itself for proxy.api_key, the api_key_file) may be read by its
 * group or by others; 0 when not, or when the key came from elsewhere. */
int amp_cfg_key_exposed(const struct amp_config *cfg, char *msg, size_t len);

/* The library's: the same said once per process at warn level (log.h),
 * for the first config loaded whose key file others may read. */
void amp_cfg_key_warn_once(const struct amp_config *cfg);

#endif
