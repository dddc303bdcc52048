/* The provider catalog (conf/providers.cfg, installed beside the library):
 * read only when a route names a provider, and then, in the form
 * tools/gen_catalog.py writes, only the entries named are read. */
#ifndef AMPSHIM_CATALOG_H
#define AMPSHIM_CATALOG_H

#include <stddef.h>

struct amp_provider {
    char name[64];
    char base_url[256];
    char display_name[128];
    int proxy; /* the proxy supports it */
};

struct amp_catalog;

/* Where the catalog is: set once by the library or the launcher. */
void amp_catalog_set_path(const char *path);
const char *amp_catalog_path(void);

/* NULL with a sentence in err when the catalog cannot be read. */
struct amp_catalog *amp_catalog_open(char *err, size_t errlen);
/* 0 and *out for provider name; -1 when there is none (a near name, if
 * one differs only in case, is put in suggestion). */
int amp_catalog_find(struct amp_catalog *cat, const char *name, struct amp_provider *out,
                     char *suggestion, size_t suglen);
void amp_catalog_close(struct amp_catalog *cat);

#endif
