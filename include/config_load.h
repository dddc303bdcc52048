/* The load of one config, shared by the files that read its parts
 * (config.c: the file and its groups; config_settings.c: a setting read and
 * its error said; config_key.c: the key; config_routes.c: routes and
 * providers). Nothing outside them includes it. */
#ifndef AMPSHIM_CONFIG_LOAD_H
#define AMPSHIM_CONFIG_LOAD_H

#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>

#include "config.h"
#include "routelist.h"

struct amp_arena;
struct amp_catalog;

struct loader {
    const char *path;
    const struct amp_curl *c;
    struct amp_config *cfg;
    struct amp_arena *arena;
    struct amp_arena *scratch;   /* what the load needs only while it runs */
    const struct amp_routelist *routes; /* read from the text, or NULL: libconfig's */
    char *err;
    size_t errlen;
    struct amp_catalog *catalog; /* opened on the first route that names a provider */
    size_t notes_cap;
    /* The headers every route sends, made once for all of them. */
    const struct amp_header *h_version, *h_project, *h_mode;
    int unopened;                /* the key file could not be opened */
};

/* ---- config_settings.c: a setting read, its error said at its line ---- */

/* "FILE:LINE: …" (line < 0: "FILE: …") in the error buffer; -1. */
int amp_cfg_fail_at(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* At libconfig's setting s (NULL: no line); -1. */
int amp_cfg_fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The config's line that libconfig's line is: libconfig parsed the text
 * with its routes list left empty (routelist.h) when the list was read. */
int amp_cfg_src_line(const struct loader *ld, int line);
/* libconfig's setting s (NULL: absent) as the checks read settings. */
const struct amp_rsetting *amp_cfg_view(const struct loader *ld, const config_setting_t *s,
                                        struct amp_rsetting *v);
/* A remark for `ampshim check`; -1 when out of memory. */
int amp_cfg_note(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a, b, … (up to NULL, 8 at most) in one string of the arena. */
char *amp_cfg_join(struct amp_arena *a, const char *first, ...);
/* Unknown settings of group are errors (known: NULL-terminated). */
int amp_cfg_only_known(struct loader *ld, const config_setting_t *group, const char *const *known);
/* The error for setting name at line, where the settings known are valid:
 * the nearest of them suggested, and the list; -1. */
int amp_cfg_unknown_at(struct loader *ld, int line, const char *name, const char *const *known,
                       size_t nknown);
/* The string setting s (NULL: absent), named where.name in messages,
 * copied into the arena, not empty; 1 when present, 0 when absent, -1 on
 * error. */
int amp_cfg_take_nonempty(struct loader *ld, const struct amp_rsetting *s, const char *name,
                          const char *where, char **out);
/* The member name of group, as amp_cfg_take_string / amp_cfg_take_nonempty. */
int amp_cfg_get_string(struct loader *ld, const config_setting_t *group, const char *name,
                       const char *where, char **out);
int amp_cfg_get_nonempty(struct loader *ld, const config_setting_t *group, const char *name,
                         const char *where, char **out);
/* throttle.name in whole seconds (0 to a year); 1 when present, 0 absent, -1. */
int amp_cfg_get_seconds(struct loader *ld, const config_setting_t *group, const char *name,
                        long *out);
/* drop_headers = [ "Authorization", … ] (the setting s, NULL: absent):
 * the header names, after the n already in *v. */
int amp_cfg_take_names(struct loader *ld, const struct amp_rsetting *s, const char *where,
                       char ***v, size_t *n);

/* ---- config_key.c ---- */

/* Memory that held a key, cleared so that the compiler cannot drop the store. */
void amp_cfg_wipe(void *p, size_t n);
/* proxy.api_key, api_key_env or api_key_file (one of them) into cfg->api_key. */
int amp_cfg_load_key(struct loader *ld, const config_setting_t *proxy);

/* ---- config_routes.c ---- */

/* The routes list, each route checked, compiled, given its headers; indexed. */
int amp_cfg_load_routes(struct loader *ld, const config_t *conf);

#endif
