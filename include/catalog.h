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
/* 0 and *out for provider name; -1 when there is none (the nearest name
 * by edit distance, suggest.h, if one is near, is put in suggestion;
 * suglen 0: none looked for). */
int amp_catalog_find(struct amp_catalog *cat, const char *name, struct amp_provider *out,
                     char *suggestion, size_t suglen);
/* The entries, in the catalog's order: 0 and *out for entry i, -1 when
 * there is none or it has no name. */
size_t amp_catalog_count(const struct amp_catalog *cat);
int amp_catalog_entry(const struct amp_catalog *cat, size_t i, struct amp_provider *out);
/* The {{.name}} placeholders of a catalog base URL, in order (max at most). */
#define AMP_MAX_PLACEHOLDERS 8
size_t amp_catalog_placeholders(const char *base_url, char names[][64], size_t max);
void amp_catalog_close(struct amp_catalog *cat);

#endif
