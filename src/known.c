/* What the operator's commands know of a config and of the shared state
 * (known.h). */
#define _GNU_SOURCE
#include "known.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "curlapi.h"

int amp_known_load(struct known *k, const char *given, const char *cmd, int json, char *path,
                   size_t len)
{
    const char *env = getenv("AMPSHIM_CONFIG");
    char err[1024];

    memset(k, 0, sizeof(*k));
    if (!given && !(env && *env) && amp_config_discover("ampshim", path, len) < 0)
        return 0;
    if (amp_cli_find_config(given, "ampshim", path, len, err, sizeof(err)) < 0) {
        fprintf(stderr, "ampshim: %s\n", err);
        return json ? amp_cli_json_failure(cmd, NULL, err, 0, 2) : 2;
    }
    k->path = path;
    if (amp_config_load(path, amp_curl_linked(), &k->cfg, err, sizeof(err)) < 0) {
        k->cfg = NULL;
        k->broken = 1;
        amp_rescue_read(path, &k->rescue);
        amp_cli_say(1, "the config does not load (%s): going by what it still says%s", err,
                    k->rescue.nids ? "" : ", every recorded route shown");
    }
    return 0;
}

void amp_known_free(struct known *k)
{
    amp_rescue_free(&k->rescue);
    amp_config_free(k->cfg);
    k->cfg = NULL;
}

static const char *known_state_file(const struct known *k)
{
    return k->cfg ? k->cfg->throttle.state_file : k->broken ? k->rescue.state_file : NULL;
}

const struct amp_route *amp_known_route(const struct known *k, uint64_t key)
{
    for (size_t i = 0; k->cfg && i < k->cfg->routes.n; i++)
        if (k->cfg->routes.v[i].key == key)
            return &k->cfg->routes.v[i];
    return NULL;
}

/* An installation ID or integration name of the broken config's text. */
static int rescued_id(const struct known *k, const char *id, const char *project)
{
    for (size_t i = 0; i < k->rescue.nids; i++)
        if (strcmp(k->rescue.ids[i], id) == 0 &&
            (!project || !k->rescue.project || strcmp(k->rescue.project, project) == 0))
            return 1;
    return 0;
}

int amp_known_block(const struct known *k, const struct amp_block *b)
{
    if (k->cfg)
        return amp_known_route(k, b->key) != NULL;
    if (k->broken && k->rescue.nids)
        return rescued_id(k, b->id, b->project);
    return 1;
}

/* A counters record's name is "base URL (installation ID)" or
 * "(integration NAME group REF)": a broken config's IDs match by name. */
int amp_known_counts(const struct known *k, const struct amp_counts *c)
{
    if (k->cfg)
        return amp_known_route(k, c->key) != NULL;
    if (k->broken && k->rescue.nids) {
        const char *open = strrchr(c->name, '(');
        char id[sizeof(c->name)];
        if (!open || sscanf(open, "(%*s %111[^ )]", id) != 1)
            return 0;
        return rescued_id(k, id, NULL);
    }
    return 1;
}

int amp_known_places(const struct known *k, struct amp_place **places, size_t *n)
{
    amp_state_set_warn(amp_cli_warning); /* the default folder may say where it is */
    if (amp_places_find(known_state_file(k), k->path != NULL, places, n) < 0) {
        amp_cli_say(0, "no place for the state (no state file path)");
        return -1;
    }
    if (!k->path && *n > 1)
        *n = 1;
    return 0;
}

void amp_known_place_blocks(const struct amp_place *p, int64_t now, struct amp_block **v, size_t *n)
{
    char err[512];
    struct amp_state *st;

    *v = NULL;
    *n = 0;
    if (amp_places_enter(p, err, sizeof(err)) < 0) {
        amp_cli_say(0, "%s", err);
        return;
    }
    st = amp_known_open_at(p->path);
    if (st && amp_state_list(st, now, v, n) < 0)
        amp_cli_say(0, "could not read all of %s", p->path);
    amp_state_close(st);
    amp_places_leave(p);
}

int amp_known_state_path(const struct amp_config *cfg, char *path, size_t len)
{
    *path = '\0';
    if (cfg && cfg->throttle.state_file) {
        snprintf(path, len, "%s", cfg->throttle.state_file);
        return 0;
    }
    return amp_state_default_path(path, len) < 0 ? -1 : 0;
}

struct amp_state *amp_known_open_at(const char *path)
{
    char err[512];

    if (access(path, F_OK) < 0)
        return NULL;
    struct amp_state *st = amp_state_open(path, err, sizeof(err));
    if (!st)
        amp_cli_say(0, "%s", err);
    return st;
}

struct amp_state *amp_known_open(const struct amp_config *cfg, char *path, size_t len)
{
    amp_state_set_warn(amp_cli_warning); /* the default folder may say where it is */
    if (amp_known_state_path(cfg, path, len) < 0)
        return NULL;
    return amp_known_open_at(path);
}
