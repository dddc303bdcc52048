/* `ampshim check`: the config loaded and what it routes printed (the key
 * masked), with the warnings an operator should see before running it. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "explain.h"
#include "json.h"
#include "known.h"
#include "log.h"
#include "nearhost.h"

static void json_strings(struct amp_json *j, const char *key, char **v, size_t n)
{
    amp_json_array(j, key);
    for (size_t i = 0; i < n; i++)
        amp_json_str(j, NULL, v[i]);
    amp_json_end(j);
}

/* Where system services keep their configs: a config there is most likely
 * read by a unit, which systemd may give a private /tmp (PrivateTmp=yes:
 * every unit with ProtectSystem=strict, DynamicUser=yes, and many packaged
 * ones). Not any root-owned file outside /home: scratch configs in /tmp
 * are common, and warning on each would teach people to ignore it. */
static int system_config(const char *path)
{
    static const char *const dirs[] = { "/etc/", "/usr/local/etc/", "/opt/", "/srv/", "/var/" };
    char real[PATH_MAX];

    if (!realpath(path, real))
        return 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (!strncmp(real, dirs[i], strlen(dirs[i])))
            return 1;
    return 0;
}

/* A service's config without a state_file: its blocks and counters would
 * go to the default place, which a unit's private /tmp hides from
 * everyone else (`ampshim state` among them) and loses at each restart. */
static void warn_private_state(const struct amp_config *cfg)
{
    char name[256];
    const char *base = strrchr(cfg->path, '/');
    size_t len;

    if (cfg->throttle.state_file || !system_config(cfg->path))
        return;
    snprintf(name, sizeof(name), "%s", base ? base + 1 : cfg->path);
    len = strlen(name);
    if (len > 4 && !strcmp(name + len - 4, ".cfg"))
        name[len - 4] = '\0';
    amp_cli_say(1, "%s has no throttle.state_file: a system service using it (systemd PrivateTmp=yes) "
                   "keeps its rate-limit state and counters in a private /tmp, where `ampshim state` "
                   "and `stats` cannot see them; set state_file = \"/var/lib/ampshim/%s.state\" "
                   "(and StateDirectory=ampshim in the unit)",
                cfg->path, name);
}

static void print_warning(const char *msg)
{
    amp_cli_say(1, "%s", msg);
}

static int check_json(struct amp_config *cfg)
{
    struct amp_json j;
    char masked[64], state[4096], mode[256];

    amp_json_init(&j, stdout, 2);
    amp_cli_json_hide_key(&j, cfg, masked, sizeof(masked));
    amp_cli_warn_key_files(cfg);
    warn_private_state(cfg);
    amp_near_hosts(cfg, print_warning);
    amp_cli_json_head(&j, "check", 1, cfg->path);
    amp_json_object(&j, "proxy");
    amp_json_str(&j, "url", cfg->proxy_url);
    amp_json_bool(&j, "plain_http", cfg->proxy_plain_http);
    amp_json_str(&j, "project_id", cfg->project_id);
    amp_json_str(&j, "api_key", masked);
    amp_json_str(&j, "api_key_from", cfg->api_key_origin);
    amp_json_str(&j, "rate_limiter_mode", cfg->rate_limiter_mode);
    json_strings(&j, "drop_headers", cfg->drop, cfg->ndrop);
    amp_json_end(&j);
    amp_json_object(&j, "throttle");
    amp_json_str(&j, "on_block", amp_on_block_name(cfg->throttle.on_block));
    amp_on_block_sentence(cfg, mode, sizeof(mode));
    amp_json_str(&j, "when_blocked", mode);
    amp_json_int(&j, "max_wait", cfg->throttle.max_wait);
    amp_json_int(&j, "default_backoff", cfg->throttle.default_backoff);
    amp_json_int(&j, "lockout_hold", cfg->throttle.lockout_hold);
    amp_json_str(&j, "state_file", amp_known_state_path(cfg, state, sizeof(state)) == 0 ? state : NULL);
    amp_json_end(&j);
    amp_json_array(&j, "routes");
    for (size_t i = 0; i < cfg->routes.n; i++)
        amp_explain_route_json(&j, NULL, cfg, &cfg->routes.v[i]);
    amp_json_end(&j);
    json_strings(&j, "notes", cfg->notes, cfg->nnotes);
    amp_cli_json_warnings(&j);
    amp_json_end(&j);
    return amp_cli_json_finish(&j, 0);
}

static int check(const char *path, int json)
{
    struct amp_config *cfg = amp_cli_load(path, "check", json);
    char masked[64];

    if (!cfg)
        return 2;
    if (json) {
        int rc = check_json(cfg);
        amp_config_free(cfg);
        return rc;
    }
    amp_mask(cfg->api_key, masked, sizeof(masked));
    printf("config:  %s\n", cfg->path);
    printf("proxy:   %s\n", cfg->proxy_url);
    printf("project: %s\n", cfg->project_id);
    printf("api key: %s (from %s)\n", masked, cfg->api_key_origin);
    printf("rate limiter mode: %s\n", cfg->rate_limiter_mode ? cfg->rate_limiter_mode : "(none)");
    printf("throttle: on_block=%s max_wait=%lds default_backoff=%lds\n",
           amp_on_block_name(cfg->throttle.on_block), cfg->throttle.max_wait,
           cfg->throttle.default_backoff);
    printf("routes (%zu):\n", cfg->routes.n);
    for (size_t i = 0; i < cfg->routes.n; i++) {
        const struct amp_route *r = &cfg->routes.v[i];
        printf("  line %d: %s%s%s%s -> %s\n", r->line, r->base_url, r->provider ? " (" : "",
               r->provider ? r->provider : "", r->provider ? ")" : "", r->ident);
    }
    for (size_t i = 0; i < cfg->nnotes; i++)
        printf("note: %s\n", cfg->notes[i]);
    fflush(stdout);
    amp_cli_warn_key_files(cfg);
    warn_private_state(cfg);
    amp_near_hosts(cfg, print_warning);
    amp_config_free(cfg);
    return 0;
}

int amp_cmd_check(int argc, char **argv)
{
    char path[PATH_MAX], err[512];
    struct amp_opts o = { 0 };
    int rc = 0;

    if (amp_options(argc, argv, ":c:h", amp_opts_json_config, &o, NULL, &rc) == AMP_OPT_EXIT)
        return rc;
    if (optind < argc)
        return amp_usage_error(argv[0], "takes no arguments, not '%s'", argv[optind]);
    if (amp_cli_find_config(o.config, "ampshim", path, sizeof(path), err, sizeof(err)) < 0) {
        fprintf(stderr, "ampshim: %s\n", err);
        return o.json ? amp_cli_json_failure("check", NULL, err, 0, 2) : 2;
    }
    return check(path, o.json);
}
