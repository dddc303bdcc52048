/* Reading the provider catalog with libconfig. */
#define _GNU_SOURCE
#include "catalog.h"
#include "safefile.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct amp_catalog {
    config_t conf;
    const config_setting_t *list;
};

static char catalog_path[4096];

void amp_catalog_set_path(const char *path)
{
    snprintf(catalog_path, sizeof(catalog_path), "%s", path ? path : "");
}

const char *amp_catalog_path(void)
{
    return catalog_path;
}

struct amp_catalog *amp_catalog_open(char *err, size_t errlen)
{
    struct amp_catalog *cat = calloc(1, sizeof(*cat));
    char *text = NULL, why[512] = "(not found)";
    size_t len = 0;
    FILE *f = NULL;

    /* Read as the config is (safefile.h): never a folder or FIFO to libconfig. */
    if (!cat || !catalog_path[0] ||
        amp_read_regular(catalog_path, AMP_MAX_CONFIG_BYTES, &text, &len, why, sizeof(why)) < 0 ||
        !(f = fmemopen(text, len ? len : 1, "r"))) {
        snprintf(err, errlen, "cannot read the provider catalog: %s", text ? "out of memory" : why);
        free(text);
        free(cat);
        return NULL;
    }
    config_init(&cat->conf);
    int ok = config_read(&cat->conf, f);
    fclose(f);
    free(text);
    if (!ok || !(cat->list = config_lookup(&cat->conf, "providers"))) {
        snprintf(err, errlen, "%s:%d: not a provider catalog%s%s", catalog_path,
                 ok ? 0 : config_error_line(&cat->conf), ok ? "" : ": ",
                 ok ? "" : config_error_text(&cat->conf));
        amp_catalog_close(cat);
        return NULL;
    }
    return cat;
}

static void copy(const config_setting_t *entry, const char *member, char *out, size_t len)
{
    const config_setting_t *s = config_setting_get_member(entry, member);
    const char *v = s && config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s) : "";

    snprintf(out, len, "%s", v);
}

int amp_catalog_find(struct amp_catalog *cat, const char *name, struct amp_provider *out,
                     char *suggestion, size_t suglen)
{
    if (suglen)
        suggestion[0] = '\0';
    for (int i = 0; i < config_setting_length(cat->list); i++) {
        const config_setting_t *e = config_setting_get_elem(cat->list, (unsigned)i);
        const config_setting_t *n = e ? config_setting_get_member(e, "name") : NULL;
        const char *v = n && config_setting_type(n) == CONFIG_TYPE_STRING ? config_setting_get_string(n) : NULL;
        if (!v)
            continue;
        if (strcmp(v, name) == 0) {
            const config_setting_t *p = config_setting_get_member(e, "proxy");
            copy(e, "name", out->name, sizeof(out->name));
            copy(e, "base_url", out->base_url, sizeof(out->base_url));
            copy(e, "display_name", out->display_name, sizeof(out->display_name));
            out->proxy = p && config_setting_type(p) == CONFIG_TYPE_BOOL && config_setting_get_bool(p);
            return 0;
        }
        if (suglen && strcasecmp(v, name) == 0)
            snprintf(suggestion, suglen, "%s", v);
    }
    return -1;
}

void amp_catalog_close(struct amp_catalog *cat)
{
    if (!cat)
        return;
    config_destroy(&cat->conf);
    free(cat);
}
