/* `ampshim providers`: what a route may name (provider = "NAME"), read from
 * the catalog the library reads (the launcher sets its path, beside the
 * library): each provider's name, display name, base URL, whether the
 * proxy supports it and the placeholders a route fills; with NAME, that
 * provider and a route for it that `ampshim check` accepts. */
#define _GNU_SOURCE
#include "catalog.h"
#include "commands.h"
#include "json.h"
#include "suggest.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After the usage line and the summary, which the table (commands.c) holds. */
const char amp_providers_help[] =
    "The names a route may give as provider = \"NAME\", each with its display\n"
    "name, its base URL, whether the proxy supports it, and the placeholders of\n"
    "its base URL a route fills (workspace, cloudId, ...).\n"
    "\n"
    "Options:\n"
    "  --json             one JSON document on stdout (its shape: ampshim-json(7))\n"
    "  -h, --help         this help\n"
    "\n"
    "Example:\n"
    "  ampshim providers salesforce\n";

/* The --json documents' shape (ampshim-json(7)). */
#define JSON_VERSION 1

/* What a placeholder is set to in the example route: a value of its kind,
 * which `ampshim check` accepts. */
static const char *example_value(const char *placeholder)
{
    static const struct { const char *name, *value; } known[] = {
        { "region", "na" },
        { "server", "na2" },
        { "cloudId", "your-cloud-id" },
        { "talkdesk_api_domain", "api.talkdeskapp.com" },
        { "zoho_api_domain", "www.zohoapis.com" },
        { "api_base_url_for_customer", "api.gong.io" },
    };

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(known[i].name, placeholder) == 0)
            return known[i].value;
    return "acme"; /* workspace, subdomain */
}

/* A catalog base URL a route can be given by name: http(s), and not a
 * placeholder for the whole URL (gong) or a scheme alone (aws). */
static int usable(const struct amp_provider *p)
{
    return strncmp(p->base_url, "https://", 8) == 0 || strncmp(p->base_url, "http://", 7) == 0;
}

/* The example route for p in out (empty when no route can name it). */
static void example_route(const struct amp_provider *p, char *out, size_t len)
{
    char names[AMP_MAX_PLACEHOLDERS][64];
    size_t n = amp_catalog_placeholders(p->base_url, names, AMP_MAX_PLACEHOLDERS);
    size_t used = 0;
    int w;

    out[0] = '\0';
    if (!p->proxy || !usable(p))
        return;
    w = snprintf(out, len, "{ provider = \"%s\"; ", p->name);
    used = w > 0 && (size_t)w < len ? (size_t)w : len;
    for (size_t i = 0; i < n && used < len; i++) {
        w = snprintf(out + used, len - used, "%s = \"%s\"; ", names[i], example_value(names[i]));
        used += w > 0 ? (size_t)w : 0;
    }
    if (used < len)
        snprintf(out + used, len - used, "installation_id = \"YOUR-INSTALLATION-ID\"; }");
}

/* "workspace, cloudId", or "" when none. */
static void placeholder_list(const struct amp_provider *p, char *out, size_t len)
{
    char names[AMP_MAX_PLACEHOLDERS][64];
    size_t n = amp_catalog_placeholders(p->base_url, names, AMP_MAX_PLACEHOLDERS), used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(out + used, len - used, "%s%s", i ? ", " : "", names[i]);
        used += w > 0 ? (size_t)w : 0;
    }
}

static void json_provider(struct amp_json *j, const char *key, const struct amp_provider *p,
                          int with_example)
{
    char names[AMP_MAX_PLACEHOLDERS][64], example[1024];
    size_t n = amp_catalog_placeholders(p->base_url, names, AMP_MAX_PLACEHOLDERS);

    amp_json_object(j, key);
    amp_json_str(j, "name", p->name);
    amp_json_str(j, "display_name", p->display_name);
    amp_json_str(j, "base_url", p->base_url);
    amp_json_bool(j, "proxy", p->proxy);
    amp_json_array(j, "placeholders");
    for (size_t i = 0; i < n; i++)
        amp_json_str(j, NULL, names[i]);
    amp_json_end(j);
    if (with_example) {
        example_route(p, example, sizeof(example));
        amp_json_str(j, "example_route", example[0] ? example : NULL);
    }
    amp_json_end(j);
}

/* The members every --json document starts with; no config is read. */
static void json_head(struct amp_json *j, int ok)
{
    amp_json_object(j, NULL);
    amp_json_int(j, "version", JSON_VERSION);
    amp_json_str(j, "command", "providers");
    amp_json_bool(j, "ok", ok);
    amp_json_null(j, "config");
    amp_json_str(j, "catalog", amp_catalog_path());
}

static int json_finish(struct amp_json *j, int rc)
{
    amp_json_array(j, "warnings");
    amp_json_end(j);
    amp_json_end(j);
    if (amp_json_finish(j) < 0) {
        fprintf(stderr, "ampshim: could not write the JSON output\n");
        return rc ? rc : 1;
    }
    return rc;
}

/* A failure that is no usage error (an unknown NAME, no catalog): said on
 * stderr, and for --json as the document's error too. */
static int failure(int json, const char *msg)
{
    struct amp_json j;

    fprintf(stderr, "ampshim providers: %s\n", msg);
    if (!json)
        return 2;
    amp_json_init(&j, stdout, 2);
    json_head(&j, 0);
    amp_json_object(&j, "error");
    amp_json_null(&j, "file");
    amp_json_null(&j, "line");
    amp_json_str(&j, "message", msg);
    amp_json_str(&j, "text", msg);
    amp_json_end(&j);
    return json_finish(&j, 2);
}

static int list_text(const struct amp_catalog *cat)
{
    static const char *const head[] = { "NAME", "DISPLAY NAME", "BASE URL", "PROXY", "PLACEHOLDERS" };
    size_t w[4] = { strlen(head[0]), strlen(head[1]), strlen(head[2]), strlen(head[3]) };
    size_t n = amp_catalog_count(cat);
    struct amp_provider p;
    char ph[512];

    for (size_t i = 0; i < n; i++) {
        if (amp_catalog_entry(cat, i, &p) < 0)
            continue;
        size_t l[3] = { strlen(p.name), strlen(p.display_name), strlen(p.base_url) };
        for (int k = 0; k < 3; k++)
            w[k] = l[k] > w[k] ? l[k] : w[k];
    }
    printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], head[0], (int)w[1], head[1], (int)w[2], head[2],
           (int)w[3], head[3], head[4]);
    for (size_t i = 0; i < n; i++) {
        if (amp_catalog_entry(cat, i, &p) < 0)
            continue;
        placeholder_list(&p, ph, sizeof(ph));
        printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], p.name, (int)w[1], p.display_name, (int)w[2],
               p.base_url, (int)w[3], p.proxy ? "yes" : "no", ph[0] ? ph : "-");
    }
    return 0;
}

static int list_json(const struct amp_catalog *cat)
{
    struct amp_json j;
    struct amp_provider p;
    size_t n = amp_catalog_count(cat);

    amp_json_init(&j, stdout, 2);
    json_head(&j, 1);
    amp_json_array(&j, "providers");
    for (size_t i = 0; i < n; i++)
        if (amp_catalog_entry(cat, i, &p) == 0)
            json_provider(&j, NULL, &p, 0);
    amp_json_end(&j);
    return json_finish(&j, 0);
}

static int detail_text(const struct amp_provider *p)
{
    char ph[512], example[1024];

    placeholder_list(p, ph, sizeof(ph));
    example_route(p, example, sizeof(example));
    printf("name:          %s\n", p->name);
    printf("display name:  %s\n", p->display_name);
    printf("base URL:      %s\n", p->base_url);
    printf("proxy:         %s\n", p->proxy ? "supported" : "not supported: no route can name it");
    printf("placeholders:  %s\n", ph[0] ? ph : "(none)");
    if (!p->proxy)
        return 0;
    if (!example[0]) {
        printf("\nIts catalog base URL cannot be a route's: give the route a base_url of its own,\n"
               "{ base_url = \"https://...\"; installation_id = \"...\"; }\n");
        return 0;
    }
    printf("\nA route for it, for the routes list of a config (ampshim.cfg(5)):\n\n  %s\n", example);
    if (ph[0])
        printf("\nEach placeholder set in the route is part of the base URL it matches; one left\n"
               "out stands for any one host label or path segment (not a whole host).\n");
    return 0;
}

int amp_cmd_providers(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, AMP_OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct amp_opts o = { 0 };
    char err[512];
    int rc = 0;

    if (amp_options(argc, argv, ":h", opts, &o, NULL, &rc) == AMP_OPT_EXIT)
        return rc;
    int json = o.json;
    if (argc - optind > 1)
        return amp_usage_error("providers", "unexpected argument '%s': give one provider NAME at most",
                               argv[optind + 1]);
    struct amp_catalog *cat = amp_catalog_open(err, sizeof(err));
    if (!cat)
        return failure(json, err);
    if (optind == argc) {
        rc = json ? list_json(cat) : list_text(cat);
    } else {
        struct amp_provider p;
        char near[64], msg[512];
        const char *name = argv[optind];
        if (amp_catalog_find(cat, name, &p, near, sizeof(near)) < 0) {
            snprintf(msg, sizeof(msg), "unknown provider '%s'%s%s%s", name, near[0] ? "; did you mean '" : "",
                     near, near[0] ? "'?" : "");
            rc = failure(json, msg);
        } else if (json) {
            struct amp_json j;
            amp_json_init(&j, stdout, 2);
            json_head(&j, 1);
            json_provider(&j, "provider", &p, 1);
            rc = json_finish(&j, 0);
        } else {
            rc = detail_text(&p);
        }
    }
    amp_catalog_close(cat);
    if (!json && fflush(stdout) != 0) {
        fprintf(stderr, "ampshim: could not write the output\n");
        rc = rc ? rc : 1;
    }
    return rc;
}
