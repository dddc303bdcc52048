/* Loading, validating and discovering the configuration. Every config is
 * written to a temp file under a scratch folder in /tmp; errors must read
 * "FILE:LINE: what is wrong" with the line of the offending setting. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "config.h"
#include "config_key.h"
#include "curlapi.h"
#include "env.h"
#include "route.h"
#include "stage1.h"

#include "scratch.h"
#include "heap.h"

/* ---- config text, one macro a line so line numbers can be counted ----- */

#ifndef CATALOG
#define CATALOG "conf/providers.cfg"
#endif
#define PROJECT "3f2c9e4a-1b7d-4c8e-9a6f-0d5e2b1c7a93"
#define KEY "k-secret-123"

#define L_PROXY "proxy: {\n"
#define L_URL "  url = \"https://proxy.withampersand.com/\";\n"
#define L_PROJECT "  project_id = \"" PROJECT "\";\n"
#define L_KEY "  api_key = \"" KEY "\";\n"
#define L_END "};\n"
#define L_ROUTES "routes = (\n"
#define L_SF "  { base_url = \"https://*.my.salesforce.com\"; installation_id = \"inst-1\"; }\n"
#define L_ROUTES_END ");\n"

/* Lines 1-5: a valid proxy group (url 2, project_id 3, key 4). */
#define GOOD_PROXY L_PROXY L_URL L_PROJECT L_KEY L_END
/* Lines 6-8 after GOOD_PROXY: one route, on line 7. */
#define ONE_ROUTE L_ROUTES L_SF L_ROUTES_END
/* Lines 6-8: the route given, on line 7. */
#define ROUTE(body) L_ROUTES "  { " body " }\n" L_ROUTES_END

/* ---- scratch folder and files ----------------------------------------- */

static int make_scratch(void **state)
{
    (void)state;
    return scratch_make("config");
}

static int drop_scratch(void **state)
{
    (void)state;
    rm_tree(scratch); /* whatever a failed test left behind */
    return 0;
}

static void write_all(const char *path, int fd, const char *text)
{
    size_t len = strlen(text);

    if (fd < 0 || write(fd, text, len) != (ssize_t)len)
        fail_msg("cannot write %s", path);
    close(fd);
}

/* text in a new file of the scratch folder (mkstemp); malloc'd path. */
static char *write_temp(const char *text)
{
    char *path;

    assert_true(asprintf(&path, "%s/cfg-XXXXXX", scratch) > 0);
    write_all(path, mkstemp(path), text);
    return path;
}

/* text in scratch/name; malloc'd path. */
static char *write_named(const char *name, const char *text)
{
    char *path;

    assert_true(asprintf(&path, "%s/%s", scratch, name) > 0);
    write_all(path, open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), text);
    return path;
}

static void remove_file(char *path)
{
    unlink(path);
    free(path);
}

/* ---- loading helpers -------------------------------------------------- */

/* Every config is loaded twice: its routes list read from the text, and
 * all of it parsed by libconfig. Both must give the same routes. */
static void same_config(const struct amp_config *a, const struct amp_config *b)
{
    assert_string_equal(a->proxy_url, b->proxy_url);
    assert_int_equal(a->nnotes, b->nnotes);
    for (size_t i = 0; i < a->nnotes; i++)
        assert_string_equal(a->notes[i], b->notes[i]);
    assert_int_equal(a->routes.n, b->routes.n);
    for (size_t i = 0; i < a->routes.n; i++) {
        const struct amp_route *x = &a->routes.v[i], *y = &b->routes.v[i];
        assert_int_equal(x->line, y->line);
        assert_string_equal(x->base_url, y->base_url);
        assert_string_equal(x->ident, y->ident);
        assert_int_equal(x->key, y->key);
        assert_int_equal(x->nheaders, y->nheaders);
        for (size_t k = 0; k < x->nheaders; k++)
            assert_string_equal(x->headers[k]->line, y->headers[k]->line);
        assert_int_equal(x->ndrop, y->ndrop);
        for (size_t k = 0; k < x->ndrop; k++)
            assert_string_equal(x->drop[k], y->drop[k]);
    }
}

static struct amp_config *load_ok(const char *text)
{
    char *path = write_temp(text), err[512] = "";
    struct amp_config *cfg = NULL, *parsed = NULL;

    if (amp_config_load(path, amp_curl_linked(), &cfg, err, sizeof(err)) != 0)
        fail_msg("config did not load: %s\n----\n%s----", err, text);
    assert_non_null(cfg);
    if (amp_config_load_ex(path, amp_curl_linked(), AMP_CONFIG_LIBCONFIG_ONLY, &parsed, err,
                           sizeof(err)) != 0)
        fail_msg("config did not load through libconfig: %s\n----\n%s----", err, text);
    same_config(cfg, parsed);
    amp_config_free(parsed);
    remove_file(path);
    return cfg;
}

/* Loading text must fail (returning rc: -2 when a file cannot be opened,
 * else -1) with "FILE:LINE: " (line 0: "FILE: ", no line) followed by a
 * message containing keyword. */
static void expect_error_rc(const char *path, int line, const char *keyword, int rc)
{
    char err[512] = "", want[512];
    struct amp_config *cfg = (struct amp_config *)&cfg; /* not NULL */

    if (line > 0)
        snprintf(want, sizeof(want), "%s:%d: ", path, line);
    else
        snprintf(want, sizeof(want), "%s: ", path);
    if (amp_config_load(path, amp_curl_linked(), &cfg, err, sizeof(err)) != rc)
        fail_msg("%s did not return %d, expected an error at line %d about '%s'", path, rc, line,
                 keyword);
    assert_null(cfg);
    /* The same error when libconfig parses all of it. */
    char again[512] = "";
    cfg = (struct amp_config *)&cfg;
    assert_int_equal(amp_config_load_ex(path, amp_curl_linked(), AMP_CONFIG_LIBCONFIG_ONLY, &cfg,
                                        again, sizeof(again)), rc);
    assert_null(cfg);
    assert_string_equal(again, err);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("error '%s' does not start with '%s'", err, want);
    if (!strstr(err + strlen(want), keyword))
        fail_msg("error '%s' does not mention '%s'", err, keyword);
}

static void expect_error_at(const char *path, int line, const char *keyword)
{
    expect_error_rc(path, line, keyword, -1);
}

static void expect_error_text(const char *text, int line, const char *keyword, int rc)
{
    char *path = write_temp(text);

    expect_error_rc(path, line, keyword, rc);
    remove_file(path);
}

static void expect_error(const char *text, int line, const char *keyword)
{
    expect_error_text(text, line, keyword, -1);
}

/* r's headers must be exactly want (NULL-terminated), in order. */
static void expect_headers(const struct amp_route *r, const char *const *want)
{
    size_t n = 0;

    for (; want[n]; n++) {
        if (n >= r->nheaders)
            fail_msg("route %s has %zu headers, expected '%s' next", r->base_url, r->nheaders,
                     want[n]);
        assert_string_equal(r->headers[n]->line, want[n]);
    }
    if (r->nheaders != n)
        fail_msg("route %s has %zu headers, expected %zu (extra: '%s')", r->base_url,
                 r->nheaders, n, r->headers[n]->line);
}

#define HEADERS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- valid configs ---------------------------------------------------- */

static void minimal_config_loads(void **state)
{
    (void)state;
    struct amp_config *cfg = load_ok(GOOD_PROXY ONE_ROUTE);

    assert_string_equal(cfg->proxy_url, "https://proxy.withampersand.com");
    assert_string_equal(cfg->project_id, PROJECT);
    assert_string_equal(cfg->api_key, KEY);
    assert_string_equal(cfg->api_key_origin, "api_key");
    assert_string_equal(cfg->rate_limiter_mode, "throttle"); /* the default */
    assert_int_equal(cfg->nnotes, 0);
    assert_int_equal(cfg->routes.n, 1);
    const struct amp_route *r = &cfg->routes.v[0];
    assert_int_equal(r->line, 7);
    assert_string_equal(r->base_url, "https://*.my.salesforce.com");
    assert_string_equal(r->installation_id, "inst-1");
    assert_null(r->integration_name);
    assert_null(r->group_ref);
    assert_int_equal(cfg->throttle.on_block, AMP_ON_BLOCK_RESPOND);
    assert_int_equal(cfg->throttle.max_wait, 30);
    assert_int_equal(cfg->throttle.default_backoff, 30);
    assert_int_equal(cfg->throttle.lockout_hold, 0);
    assert_null(cfg->throttle.state_file);
    amp_config_free(cfg);
}

static void loaded_routes_match_and_rewrite(void **state)
{
    (void)state;
    struct amp_config *cfg = load_ok(
        GOOD_PROXY L_ROUTES
        "  { base_url = \"https://*.my.salesforce.com\"; installation_id = \"inst-sf\"; },\n"
        "  { base_url = \"https://slack.com/api\"; integration_name = \"slack\"; group_ref = \"g1\"; },\n"
        "  { base_url = \"https://api.atlassian.com/ex/jira/{{.cloudId}}/rest/api\"; installation_id = \"inst-j\"; }\n"
        L_ROUTES_END);
    char *out = NULL;
    const struct amp_route *r;

    assert_int_equal(cfg->routes.n, 3);
    r = amp_route_match(&cfg->routes, amp_curl_linked(),
                        "https://slack.com/api/chat.postMessage?channel=C1&text=a%20b+c%2F",
                        cfg->proxy_url, &out);
    assert_ptr_equal(r, &cfg->routes.v[1]);
    assert_string_equal(out, "https://proxy.withampersand.com/chat.postMessage?channel=C1&text=a%20b+c%2F");
    free(out);

    r = amp_route_match(&cfg->routes, amp_curl_linked(),
                        "https://acme.my.salesforce.com/services/data/v56.0/sobjects/Account",
                        cfg->proxy_url, &out);
    assert_ptr_equal(r, &cfg->routes.v[0]);
    assert_string_equal(out, "https://proxy.withampersand.com/services/data/v56.0/sobjects/Account");
    free(out);

    r = amp_route_match(&cfg->routes, amp_curl_linked(),
                        "https://api.atlassian.com/ex/jira/abc-123/rest/api/3/issue/X-1",
                        cfg->proxy_url, &out);
    assert_ptr_equal(r, &cfg->routes.v[2]);
    assert_string_equal(out, "https://proxy.withampersand.com/3/issue/X-1");
    free(out);

    assert_null(amp_route_match(&cfg->routes, amp_curl_linked(),
                                "https://acme.my.salesforce.com.evil.test/", cfg->proxy_url, &out));
    assert_null(out);
    amp_config_free(cfg);
}

static void headers_for_installation_route(void **state)
{
    (void)state;
    struct amp_config *cfg = load_ok(GOOD_PROXY ONE_ROUTE);

    expect_headers(&cfg->routes.v[0],
                   HEADERS("x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: " KEY, "x-amp-installation-id: inst-1",
                           "x-amp-rate-limiter-mode: throttle"));
    amp_config_free(cfg);
}

static void headers_for_integration_route(void **state)
{
    (void)state;
    struct amp_config *cfg = load_ok(
        GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; integration_name = \"slack-main\"; "
                         "group_ref = \"customer-42\";"));

    expect_headers(&cfg->routes.v[0],
                   HEADERS("x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: " KEY, "x-amp-integration-name: slack-main",
                           "x-amp-group-ref: customer-42", "x-amp-rate-limiter-mode: throttle"));
    amp_config_free(cfg);
}

static void rate_limiter_throttle_adds_header(void **state)
{
    (void)state;
    struct amp_config *cfg = load_ok(
        L_PROXY L_URL L_PROJECT L_KEY "  rate_limiter_mode = \"throttle\";\n" L_END L_ROUTES
        "  { base_url = \"https://*.my.salesforce.com\"; installation_id = \"inst-1\"; },\n"
        "  { base_url = \"https://slack.com/api\"; integration_name = \"slack\"; group_ref = \"g\"; }\n"
        L_ROUTES_END);

    assert_string_equal(cfg->rate_limiter_mode, "throttle");
    expect_headers(&cfg->routes.v[0],
                   HEADERS("x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: " KEY, "x-amp-installation-id: inst-1",
                           "x-amp-rate-limiter-mode: throttle"));
    expect_headers(&cfg->routes.v[1],
                   HEADERS("x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: " KEY, "x-amp-integration-name: slack",
                           "x-amp-group-ref: g", "x-amp-rate-limiter-mode: throttle"));
    amp_config_free(cfg);
}

static void rate_limiter_empty_means_none(void **state)
{
    (void)state;
    struct amp_config *cfg = load_ok(
        L_PROXY L_URL L_PROJECT L_KEY "  rate_limiter_mode = \"\";\n" L_END ONE_ROUTE);

    assert_null(cfg->rate_limiter_mode);
    expect_headers(&cfg->routes.v[0],
                   HEADERS("x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: " KEY, "x-amp-installation-id: inst-1"));
    amp_config_free(cfg);
}

static void installation_id_wins_with_a_note(void **state)
{
    (void)state;
    struct amp_config *cfg = load_ok(
        GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; installation_id = \"inst-9\"; "
                         "integration_name = \"slack\"; group_ref = \"g\";"));

    assert_int_equal(cfg->nnotes, 1);
    assert_non_null(strstr(cfg->notes[0], "installation_id"));
    assert_non_null(strstr(cfg->notes[0], ":7:"));
    expect_headers(&cfg->routes.v[0],
                   HEADERS("x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: " KEY, "x-amp-installation-id: inst-9",
                           "x-amp-rate-limiter-mode: throttle"));
    amp_config_free(cfg);

    /* group_ref alone beside installation_id is noted too */
    cfg = load_ok(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; installation_id = \"i\"; "
                                   "group_ref = \"g\";"));
    assert_int_equal(cfg->nnotes, 1);
    assert_non_null(strstr(cfg->notes[0], "installation_id"));
    amp_config_free(cfg);
}

static void proxy_http_to_loopback_accepted(void **state)
{
    (void)state;
    struct amp_config *cfg = load_ok(
        L_PROXY "  url = \"http://127.0.0.1:8080/\";\n" L_PROJECT L_KEY L_END ONE_ROUTE);

    assert_string_equal(cfg->proxy_url, "http://127.0.0.1:8080");
    amp_config_free(cfg);

    cfg = load_ok(L_PROXY "  url = \"http://localhost:9000\";\n" L_PROJECT L_KEY L_END ONE_ROUTE);
    assert_string_equal(cfg->proxy_url, "http://localhost:9000");
    amp_config_free(cfg);
}

/* ---- the key ---------------------------------------------------------- */

static void api_key_env_is_read(void **state)
{
    (void)state;
    setenv("AMPSHIM_TEST_KEY", "k-from-env", 1);
    struct amp_config *cfg = load_ok(
        L_PROXY L_URL L_PROJECT "  api_key_env = \"AMPSHIM_TEST_KEY\";\n" L_END ONE_ROUTE);
    unsetenv("AMPSHIM_TEST_KEY");

    assert_string_equal(cfg->api_key, "k-from-env");
    assert_string_equal(cfg->api_key_origin, "api_key_env AMPSHIM_TEST_KEY");
    assert_string_equal(cfg->routes.v[0].headers[2]->line, "x-api-key: k-from-env");
    amp_config_free(cfg);
}

static void api_key_env_unset_is_an_error(void **state)
{
    (void)state;
    unsetenv("AMPSHIM_TEST_NO_SUCH_KEY");
    expect_error(L_PROXY L_URL L_PROJECT "  api_key_env = \"AMPSHIM_TEST_NO_SUCH_KEY\";\n" L_END
                 ONE_ROUTE,
                 4, "AMPSHIM_TEST_NO_SUCH_KEY is not set");
}

static void api_key_file_beside_the_config(void **state)
{
    (void)state;
    char *dir, *cfgpath, err[512] = "";
    struct amp_config *cfg = NULL;

    /* the key in scratch/keys/, the config in scratch/: "keys/key.txt"
     * is relative to the config's folder, not to the working directory */
    assert_true(asprintf(&dir, "%s/keys", scratch) > 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    char *keypath = write_named("keys/key.txt", "k-from-file\n");
    cfgpath = write_temp(L_PROXY L_URL L_PROJECT "  api_key_file = \"keys/key.txt\";\n" L_END
                         ONE_ROUTE);
    assert_string_not_equal(getcwd(err, sizeof(err)), scratch);

    if (amp_config_load(cfgpath, amp_curl_linked(), &cfg, err, sizeof(err)) != 0)
        fail_msg("config did not load: %s", err);
    assert_string_equal(cfg->api_key, "k-from-file");
    assert_non_null(strstr(cfg->api_key_origin, keypath));
    assert_string_equal(cfg->routes.v[0].headers[2]->line, "x-api-key: k-from-file");
    amp_config_free(cfg);

    remove_file(cfgpath);
    remove_file(keypath);
    rmdir(dir);
    free(dir);
}

static void api_key_file_unreadable_is_an_error(void **state)
{
    (void)state;
    /* no such file: -2, what may change by itself (settings.c tries it again) */
    expect_error_text(L_PROXY L_URL L_PROJECT "  api_key_file = \"no-such-key.txt\";\n" L_END
                      ONE_ROUTE, 4, "cannot read", -2);

    /* a folder, which opens but does not read */
    char *dir;
    assert_true(asprintf(&dir, "%s/a-folder", scratch) > 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    expect_error(L_PROXY L_URL L_PROJECT "  api_key_file = \"a-folder\";\n" L_END ONE_ROUTE, 4,
                 "a-folder: not a regular file");
    rmdir(dir);
    free(dir);

    /* an empty file */
    char *empty = write_named("empty.key", "\n");
    expect_error(L_PROXY L_URL L_PROJECT "  api_key_file = \"empty.key\";\n" L_END ONE_ROUTE, 4,
                 "empty");
    remove_file(empty);
}

static void no_key_is_an_error(void **state)
{
    (void)state;
    expect_error(L_PROXY L_URL L_PROJECT L_END ONE_ROUTE, 1, "API key");
}

static void two_key_sources_are_an_error(void **state)
{
    (void)state;
    setenv("AMPSHIM_TEST_KEY", "k-from-env", 1);
    expect_error(L_PROXY L_URL L_PROJECT L_KEY "  api_key_env = \"AMPSHIM_TEST_KEY\";\n" L_END
                 ONE_ROUTE,
                 5, "one way only");
    /* the message names both; the line is that of the later in the order
     * api_key, api_key_env, api_key_file, wherever they stand in the file */
    expect_error(L_PROXY L_URL L_PROJECT "  api_key_file = \"k.txt\";\n" L_KEY L_END ONE_ROUTE,
                 4, "proxy.api_key and proxy.api_key_file are both set");
    unsetenv("AMPSHIM_TEST_KEY");
}

/* ---- errors in the proxy group ---------------------------------------- */

static void syntax_error_names_its_line(void **state)
{
    (void)state;
    expect_error(L_PROXY L_URL L_PROJECT "  api_key = ;\n" L_END ONE_ROUTE, 4, "syntax error");
    expect_error(GOOD_PROXY L_ROUTES "  { base_url = \"https://slack.com\"; installation_id = ; }\n"
                 L_ROUTES_END,
                 7, "syntax error");
}

static void missing_proxy_group_is_an_error(void **state)
{
    (void)state;
    expect_error(ONE_ROUTE, 0, "'proxy'");
    expect_error("proxy = \"https://proxy.withampersand.com\";\n" ONE_ROUTE, 1, "group");
}

static void missing_routes_is_an_error(void **state)
{
    (void)state;
    expect_error(GOOD_PROXY, 0, "'routes'");
}

static void proxy_url_must_be_https(void **state)
{
    (void)state;
    expect_error(L_PROXY "  url = \"http://proxy.withampersand.com\";\n" L_PROJECT L_KEY L_END
                 ONE_ROUTE,
                 2, "must be https");
    expect_error(L_PROXY "  url = \"http://128.0.0.1:8080\";\n" L_PROJECT L_KEY L_END ONE_ROUTE, 2,
                 "must be https");
    expect_error(L_PROXY "  url = \"http://127.0.0.1.evil.test\";\n" L_PROJECT L_KEY L_END
                 ONE_ROUTE,
                 2, "must be https");
    expect_error(L_PROXY "  url = \"ftp://proxy.withampersand.com\";\n" L_PROJECT L_KEY L_END
                 ONE_ROUTE,
                 2, "must be https");
    expect_error(L_PROXY L_PROJECT L_KEY L_END ONE_ROUTE, 1, "proxy.url is missing");
}

static void project_id_must_be_a_uuid(void **state)
{
    (void)state;
    expect_error(L_PROXY L_URL "  project_id = \"my-project\";\n" L_KEY L_END ONE_ROUTE, 3,
                 "not its name");
    expect_error(L_PROXY L_URL "  project_id = \"3f2c9e4a-1b7d-4c8e-9a6f-0d5e2b1c7a9\";\n" L_KEY
                 L_END ONE_ROUTE,
                 3, "not its name");
    /* the right length, not hex; one character too many */
    expect_error(L_PROXY L_URL "  project_id = \"zzzzzzzz-1b7d-4c8e-9a6f-0d5e2b1c7a93\";\n" L_KEY
                 L_END ONE_ROUTE,
                 3, "not its name");
    expect_error(L_PROXY L_URL "  project_id = \"" PROJECT "0\";\n" L_KEY L_END ONE_ROUTE, 3,
                 "not its name");
    expect_error(L_PROXY L_URL L_KEY L_END ONE_ROUTE, 1, "project_id is missing");
}

static void rate_limiter_mode_other_value_rejected(void **state)
{
    (void)state;
    expect_error(L_PROXY L_URL L_PROJECT L_KEY "  rate_limiter_mode = \"queue\";\n" L_END ONE_ROUTE,
                 5, "rate_limiter_mode");
    expect_error(L_PROXY L_URL L_PROJECT L_KEY "  rate_limiter_mode = \"Throttle\";\n" L_END
                 ONE_ROUTE,
                 5, "rate_limiter_mode");
}

/* ---- errors in routes ------------------------------------------------- */

static void route_needs_an_identity(void **state)
{
    (void)state;
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\";"), 7,
                 "needs installation_id");
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; integration_name = \"slack\";"),
                 7, "group_ref");
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; group_ref = \"g\";"), 7,
                 "integration_name");
    /* the second route is the faulty one */
    expect_error(GOOD_PROXY L_ROUTES
                 "  { base_url = \"https://*.my.salesforce.com\"; installation_id = \"inst-1\"; },\n"
                 "  { base_url = \"https://slack.com/api\"; integration_name = \"slack\"; }\n"
                 L_ROUTES_END,
                 8, "group_ref");
}

static void route_integration_name_must_be_lowercase(void **state)
{
    (void)state;
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; integration_name = \"Slack\"; "
                                  "group_ref = \"g\";"),
                 7, "integration_name");
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; integration_name = \"sl ack\"; "
                                  "group_ref = \"g\";"),
                 7, "integration_name");
}

static void route_bad_base_url(void **state)
{
    (void)state;
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://api-*.x.com\"; installation_id = \"i\";"), 7,
                 "base_url");
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://x.com/api?k=1\"; installation_id = \"i\";"),
                 7, "query");
    expect_error(GOOD_PROXY ROUTE("installation_id = \"i\";"), 7, "no base_url");
}

static void unknown_setting_names_its_line(void **state)
{
    (void)state;
    /* a misspelt installation_id in a route written over several lines */
    expect_error(GOOD_PROXY L_ROUTES
                 "  {\n"                                        /* 7 */
                 "    base_url = \"https://slack.com/api\";\n"  /* 8 */
                 "    instalation_id = \"inst-1\";\n"           /* 9 */
                 "  }\n"
                 L_ROUTES_END,
                 9, "instalation_id");
    expect_error(L_PROXY L_URL L_PROJECT L_KEY "  projectid = \"x\";\n" L_END ONE_ROUTE, 5,
                 "projectid");
    expect_error(GOOD_PROXY ONE_ROUTE "throtle: { on_block = \"wait\"; };\n", 9, "throtle");
    expect_error(GOOD_PROXY ONE_ROUTE "throttle: {\n  on_blocks = \"wait\";\n};\n", 10,
                 "on_blocks");
}

/* Each unknown setting is told the nearest valid one, and all of them, in
 * the group where it stands: the top, proxy, throttle, a route, and a
 * provider's route (its placeholders valid there too). */
static void unknown_setting_suggests(void **state)
{
    (void)state;
    amp_catalog_set_path(CATALOG);
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; instalation_id = \"i\";"), 7,
                 "unknown setting 'instalation_id'; did you mean 'installation_id'? valid here: base_url, "
                 "provider, installation_id, integration_name, group_ref, drop_headers");
    expect_error(GOOD_PROXY ROUTE("provider = \"salesforce\"; workpsace = \"acme\"; installation_id = \"i\";"),
                 7, "unknown setting 'workpsace'; did you mean 'workspace'? valid here: base_url, provider, "
                 "installation_id, integration_name, group_ref, drop_headers, workspace");
    expect_error(GOOD_PROXY ROUTE("provider = \"atlassian\"; cloudid = \"c\"; installation_id = \"i\";"),
                 7, "did you mean 'cloudId'?");
    expect_error(L_PROXY L_URL L_PROJECT L_KEY "  projectid = \"x\";\n" L_END ONE_ROUTE, 5,
                 "unknown setting 'projectid'; did you mean 'project_id'? valid here: url, project_id, "
                 "api_key, api_key_env, api_key_file, rate_limiter_mode, drop_headers");
    expect_error(GOOD_PROXY ONE_ROUTE "throttle: { on_blok = \"wait\"; };\n", 9,
                 "unknown setting 'on_blok'; did you mean 'on_block'? valid here: on_block, max_wait, "
                 "state_file, default_backoff, lockout_hold");
    expect_error(GOOD_PROXY ONE_ROUTE "throtle: { on_block = \"wait\"; };\n", 9,
                 "unknown setting 'throtle'; did you mean 'throttle'? valid here: proxy, routes, throttle");
    /* Nothing near: the list alone. */
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; region = \"eu\"; installation_id = \"i\";"),
                 7, "unknown setting 'region'; valid here: base_url, provider,");
    /* A misspelt provider, now by edit distance, not case alone. */
    expect_error(GOOD_PROXY ROUTE("provider = \"hubspt\"; installation_id = \"i\";"), 7,
                 "unknown provider 'hubspt'; did you mean 'hubspot'?");
    expect_error(GOOD_PROXY ROUTE("provider = \"zzzzzzzz\"; installation_id = \"i\";"), 7,
                 "unknown provider 'zzzzzzzz' (");
}

/* The key's file readable by others, as the launcher and the library both
 * ask it (config_key.h). */
static void key_file_exposed(void **state)
{
    (void)state;
    char msg[1024] = "";
    struct amp_config *cfg;
    char *path = write_named("exposed.cfg", GOOD_PROXY ONE_ROUTE), err[512];

    assert_int_equal(amp_config_load(path, amp_curl_linked(), &cfg, err, sizeof(err)), 0);
    assert_int_equal(amp_cfg_key_exposed(cfg, msg, sizeof(msg)), 0); /* 0600 */
    chmod(path, 0640);
    assert_int_equal(amp_cfg_key_exposed(cfg, msg, sizeof(msg)), 1);
    assert_non_null(strstr(msg, "holds the API key (api_key) and is readable by its group: chmod 600"));
    assert_non_null(strstr(msg, path));
    chmod(path, 0604);
    assert_int_equal(amp_cfg_key_exposed(cfg, msg, sizeof(msg)), 1);
    assert_non_null(strstr(msg, "readable by others"));
    amp_config_free(cfg);
    /* api_key_file: the key's file, not the config's. */
    char *key = write_named("exposed.key", "k-file\n");
    char *byfile = write_named("byfile.cfg", L_PROXY L_URL L_PROJECT "  api_key_file = \"exposed.key\";\n"
                                             L_END ONE_ROUTE);
    chmod(byfile, 0644);
    assert_int_equal(amp_config_load(byfile, amp_curl_linked(), &cfg, err, sizeof(err)), 0);
    assert_int_equal(amp_cfg_key_exposed(cfg, msg, sizeof(msg)), 0);
    chmod(key, 0644);
    assert_int_equal(amp_cfg_key_exposed(cfg, msg, sizeof(msg)), 1);
    assert_non_null(strstr(msg, "exposed.key holds the API key and is readable by others"));
    amp_config_free(cfg);
    /* api_key_env: no file holds it. */
    setenv("AMPSHIM_TEST_KEY", "k-env", 1);
    char *byenv = write_named("byenv.cfg", L_PROXY L_URL L_PROJECT "  api_key_env = \"AMPSHIM_TEST_KEY\";\n"
                                           L_END ONE_ROUTE);
    chmod(byenv, 0644);
    if (amp_config_load(byenv, amp_curl_linked(), &cfg, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    unsetenv("AMPSHIM_TEST_KEY");
    assert_int_equal(amp_cfg_key_exposed(cfg, msg, sizeof(msg)), 0);
    amp_config_free(cfg);
    remove_file(path);
    remove_file(key);
    remove_file(byfile);
    remove_file(byenv);
}

static void header_values_without_control_characters(void **state)
{
    (void)state;
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; "
                                  "installation_id = \"inst\\nx-evil: 1\";"),
                 7, "control characters");
    expect_error(GOOD_PROXY ROUTE("base_url = \"https://slack.com/api\"; integration_name = \"slack\"; "
                                  "group_ref = \"g\\r\";"),
                 7, "control characters");
    expect_error(L_PROXY L_URL L_PROJECT "  api_key = \"k\\tx\";\n" L_END ONE_ROUTE, 4,
                 "control characters");
}

/* ---- throttle --------------------------------------------------------- */

static void throttle_settings_load(void **state)
{
    (void)state;
    struct amp_config *cfg = load_ok(
        GOOD_PROXY ONE_ROUTE
        "throttle: { on_block = \"wait\"; max_wait = 5; default_backoff = 7; lockout_hold = 0; "
        "state_file = \"/tmp/x.state\"; };\n");

    assert_int_equal(cfg->throttle.on_block, AMP_ON_BLOCK_WAIT);
    assert_int_equal(cfg->throttle.max_wait, 5);
    assert_int_equal(cfg->throttle.default_backoff, 7);
    assert_int_equal(cfg->throttle.lockout_hold, 0);
    assert_string_equal(cfg->throttle.state_file, "/tmp/x.state");
    amp_config_free(cfg);

    cfg = load_ok(GOOD_PROXY ONE_ROUTE "throttle: { on_block = \"fail\"; };\n");
    assert_int_equal(cfg->throttle.on_block, AMP_ON_BLOCK_FAIL);
    amp_config_free(cfg);
    cfg = load_ok(GOOD_PROXY ONE_ROUTE "throttle: { on_block = \"respond\"; };\n");
    assert_int_equal(cfg->throttle.on_block, AMP_ON_BLOCK_RESPOND);
    amp_config_free(cfg);
}

static void throttle_errors(void **state)
{
    (void)state;
    expect_error(GOOD_PROXY ONE_ROUTE "throttle: {\n  on_block = \"retry\";\n};\n", 10, "on_block");
    expect_error(GOOD_PROXY ONE_ROUTE "throttle: {\n  on_block = \"wait\";\n  max_wait = -1;\n};\n",
                 11, "max_wait");
    expect_error(GOOD_PROXY ONE_ROUTE "throttle: {\n  max_wait = \"5\";\n};\n", 10, "max_wait");
    expect_error(GOOD_PROXY ONE_ROUTE "throttle: {\n  default_backoff = -3;\n};\n", 10,
                 "default_backoff");
}

/* ---- the file itself -------------------------------------------------- */

static void missing_file_is_an_error(void **state)
{
    (void)state;
    char *path;

    assert_true(asprintf(&path, "%s/no-such.cfg", scratch) > 0);
    expect_error_rc(path, 0, "cannot open", -2);
    free(path);
}

/* Files that are not files: refused at once, never read from (a FIFO
 * would block forever) nor handed to libconfig (a folder makes its scanner
 * exit the process). */
static void files_that_are_not_files(void **state)
{
    (void)state;
    char *fifo, *dir, *inc, *text, *big, *nul;

    assert_true(asprintf(&fifo, "%s/a-fifo", scratch) > 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_error_at(fifo, 0, "not a regular file");
    expect_error(L_PROXY L_URL L_PROJECT "  api_key_file = \"a-fifo\";\n" L_END ONE_ROUTE, 4,
                 "a-fifo: not a regular file");
    assert_true(asprintf(&text, "@include \"%s\"\n" GOOD_PROXY ONE_ROUTE, fifo) > 0);
    expect_error(text, 1, "@include");
    expect_error(text, 1, "a-fifo: not a regular file");
    free(text);

    assert_true(asprintf(&dir, "%s/a-dir", scratch) > 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    expect_error_at(dir, 0, "not a regular file");
    assert_true(asprintf(&text, GOOD_PROXY "\n  @include \"%s\"\n" ONE_ROUTE, dir) > 0);
    expect_error(text, 7, "a-dir: not a regular file");
    free(text);

    /* A regular include is read as before, and one inside it is checked too. */
    assert_true(asprintf(&inc, "%s/routes.inc", scratch) > 0);
    assert_true(asprintf(&text, "@include \"%s\"\n", fifo) > 0);
    FILE *f = fopen(inc, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(text);
    assert_true(asprintf(&text, GOOD_PROXY "@include \"%s\"\n" ONE_ROUTE, inc) > 0);
    char *path = write_temp(text), err[512] = "", *want;
    struct amp_config *cfg = NULL;
    assert_int_equal(amp_config_load(path, amp_curl_linked(), &cfg, err, sizeof(err)), -1);
    assert_true(asprintf(&want, "%s:1: @include %s: not a regular file", inc, fifo) > 0);
    assert_string_equal(err, want); /* named where the directive is */
    remove_file(path);
    free(want);
    free(text);
    f = fopen(inc, "w");
    fputs("# nothing\n", f);
    fclose(f);
    assert_true(asprintf(&text, GOOD_PROXY "@include \"%s\"\n" ONE_ROUTE, inc) > 0);
    amp_config_free(load_ok(text));
    free(text);

    /* Text libconfig would read otherwise than the check: a NUL byte before
     * an @include, an escaped quote in its name. */
    assert_true(asprintf(&text, "# x\n@include \"%s\"\n", fifo) > 0);
    {
        char *nulpath, err[512] = "";
        struct amp_config *none = NULL;
        assert_true(asprintf(&nulpath, "%s/nul.cfg", scratch) > 0);
        FILE *nf = fopen(nulpath, "w");
        fwrite("# x", 1, 3, nf);
        fputc('\0', nf);
        fputs(text + 3, nf);
        fclose(nf);
        assert_int_equal(amp_config_load(nulpath, amp_curl_linked(), &none, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "holds a NUL byte"));
        unlink(nulpath);
        free(nulpath);
    }
    free(text);
    expect_error(GOOD_PROXY "@include \"a\\\"b\"\n" ONE_ROUTE, 6, "backslash");

    /* Too large to be a config (libconfig's parse is quadratic in a string). */
    assert_true(asprintf(&big, "%s/big.cfg", scratch) > 0);
    f = fopen(big, "w");
    for (int i = 0; i < 3 * 1024; i++)
        fputs("# ..................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................\n", f);
    fclose(f);
    expect_error_at(big, 0, "larger than");

    /* A key file that starts with a NUL byte (as /dev/zero would, which is
     * refused for not being a file) is no empty key. */
    assert_true(asprintf(&nul, "%s/nul.key", scratch) > 0);
    f = fopen(nul, "w");
    fwrite("\0\0abc", 1, 5, f);
    fclose(f);
    expect_error(L_PROXY L_URL L_PROJECT "  api_key_file = \"nul.key\";\n" L_END ONE_ROUTE, 4,
                 "holds a NUL byte");
    expect_error(L_PROXY L_URL L_PROJECT "  api_key_file = \"/dev/zero\";\n" L_END ONE_ROUTE, 4,
                 "not a regular file");
    unlink(fifo);
    rmdir(dir);
    unlink(inc);
    unlink(big);
    unlink(nul);
    free(fifo);
    free(dir);
    free(inc);
    free(big);
    free(nul);
}

/* Keys that are not keys. */
static void keys_that_are_not_keys(void **state)
{
    (void)state;
    expect_error(L_PROXY L_URL L_PROJECT "  api_key = \"   \";\n" L_END ONE_ROUTE, 4, "is empty");
    expect_error(L_PROXY L_URL L_PROJECT "  api_key = \"\";\n" L_END ONE_ROUTE, 4, "must not be empty");
    expect_error(L_PROXY L_URL L_PROJECT "  api_key = \"two words\";\n" L_END ONE_ROUTE, 4,
                 "visible ASCII");
    expect_error(L_PROXY L_URL L_PROJECT "  api_key = \"caf\xc3\xa9\";\n" L_END ONE_ROUTE, 4,
                 "visible ASCII");
    char *text, long_key[1100];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    assert_true(asprintf(&text, L_PROXY L_URL L_PROJECT "  api_key = \"%s\";\n" L_END ONE_ROUTE, long_key) > 0);
    expect_error(text, 4, "longer than any API key");
    free(text);
    setenv("AMPSHIM_TEST_KEY", " spaced-key-1234 \n", 1);
    struct amp_config *cfg = load_ok(L_PROXY L_URL L_PROJECT "  api_key_env = \"AMPSHIM_TEST_KEY\";\n" L_END ONE_ROUTE);
    assert_string_equal(cfg->api_key, "spaced-key-1234"); /* trimmed */
    amp_config_free(cfg);
    setenv("AMPSHIM_TEST_KEY", "a\tb", 1);
    expect_error(L_PROXY L_URL L_PROJECT "  api_key_env = \"AMPSHIM_TEST_KEY\";\n" L_END ONE_ROUTE, 4,
                 "visible ASCII");
    unsetenv("AMPSHIM_TEST_KEY");
}

/* ---- where the config lives ------------------------------------------- */

/* Not in the heap malloc grows with brk. */
static int outside_brk_heap(const void *p)
{
    extern char end;
    return (const char *)p < &end || (const char *)p >= (const char *)sbrk(0);
}

/* What a loaded config keeps is mapped apart from the malloc heap; the heap
 * fallback (AMP_CONFIG_ON_HEAP) holds the same config. */
static void kept_apart_from_the_heap(void **state)
{
    (void)state;
    char text[8192] = GOOD_PROXY L_ROUTES, err[512] = "";
    for (int i = 0; i < 40; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "  { base_url = \"https://*.t%d.example.test/v%d\"; installation_id = \"i-%d\"; },\n",
                 i, i, i);
    strcat(text, "  { base_url = \"https://slack.com/api\"; integration_name = \"s\"; group_ref = \"g\"; }\n"
                 L_ROUTES_END);
    char *path = write_temp(text);
    struct amp_config *mapped = NULL, *heap = NULL;

    size_t held = malloc_held();
    assert_int_equal(amp_config_load(path, amp_curl_linked(), &mapped, err, sizeof(err)), 0);
    assert_int_equal(malloc_held(), held);
    assert_true(outside_brk_heap(mapped) && outside_brk_heap(mapped->routes.v) &&
                outside_brk_heap(mapped->routes.v[3].base_url) &&
                outside_brk_heap(mapped->routes.v[3].headers[3]->line) &&
                outside_brk_heap(mapped->proxy_url));

    held = malloc_held();
    assert_int_equal(amp_config_load_ex(path, amp_curl_linked(), AMP_CONFIG_ON_HEAP, &heap, err,
                                        sizeof(err)), 0);
    /* at least the arena's first chunk */
    assert_true(!malloc_seen() || malloc_held() >= held + 16 * 1024);
    assert_string_equal(heap->proxy_url, mapped->proxy_url);
    assert_int_equal(heap->routes.n, 41);
    assert_int_equal(mapped->routes.n, 41);
    for (size_t i = 0; i < mapped->routes.n; i++) {
        const struct amp_route *a = &mapped->routes.v[i], *b = &heap->routes.v[i];
        assert_string_equal(a->base_url, b->base_url);
        assert_string_equal(a->ident, b->ident);
        assert_int_equal(a->nheaders, b->nheaders);
        for (size_t k = 0; k < a->nheaders; k++)
            assert_string_equal(a->headers[k]->line, b->headers[k]->line);
        assert_int_equal(a->key, b->key);
    }
    char *out = NULL;
    const struct amp_route *r = amp_route_match(&heap->routes, amp_curl_linked(),
                                                "https://x.t7.example.test/v7/a?b", heap->proxy_url, &out);
    assert_ptr_equal(r, &heap->routes.v[7]);
    assert_string_equal(out, "https://proxy.withampersand.com/a?b");
    free(out);
    amp_config_free(heap);
    amp_config_free(mapped);
    remove_file(path);
}

/* A config whose routes list is read from the text says so, and one that
 * libconfig must parse all of (here an escape in a route) says it was
 * read whole (the library then watches its file by stat, not by bytes). */
static void the_load_says_when_libconfig_read_it_whole(void **state)
{
    (void)state;
    char *plain = write_temp(GOOD_PROXY ONE_ROUTE), err[512] = "";
    char *escaped = write_temp(GOOD_PROXY ROUTE("base_url = \"https://x.test\"; installation_id = \"i\\x2d1\";"));
    struct amp_config *cfg = NULL;

    assert_int_equal(amp_config_load_ex(plain, amp_curl_linked(), 0, &cfg, err, sizeof(err)),
                     AMP_LOAD_OK);
    assert_int_equal(cfg->routes.n, 1);
    assert_false(cfg->read_whole);
    amp_config_free(cfg);
    cfg = NULL;
    assert_int_equal(amp_config_load_ex(plain, amp_curl_linked(), AMP_CONFIG_LIBCONFIG_ONLY, &cfg,
                                        err, sizeof(err)), AMP_LOAD_OK);
    assert_true(cfg->read_whole);
    amp_config_free(cfg);
    cfg = NULL;
    assert_int_equal(amp_config_load_ex(escaped, amp_curl_linked(), 0, &cfg, err, sizeof(err)),
                     AMP_LOAD_OK);
    assert_true(cfg->read_whole);
    assert_string_equal(cfg->routes.v[0].installation_id, "i-1");
    amp_config_free(cfg);
    remove_file(plain);
    remove_file(escaped);
}

/* ---- discovery -------------------------------------------------------- */

struct env_save {
    char *xdg, *home;
};

static struct env_save env_save(void)
{
    const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    return (struct env_save){ x ? strdup(x) : NULL, h ? strdup(h) : NULL };
}

static void env_restore(struct env_save s)
{
    if (s.xdg)
        setenv("XDG_CONFIG_HOME", s.xdg, 1);
    else
        unsetenv("XDG_CONFIG_HOME");
    if (s.home)
        setenv("HOME", s.home, 1);
    else
        unsetenv("HOME");
    free(s.xdg);
    free(s.home);
}

/* scratch/sub, created; malloc'd path. */
static char *make_dir(const char *sub)
{
    char *p;

    assert_true(asprintf(&p, "%s/%s", scratch, sub) > 0);
    assert_int_equal(mkdir(p, 0700), 0);
    return p;
}

static void discover_in_xdg_config_home(void **state)
{
    (void)state;
    struct env_save saved = env_save();
    char *xdg = make_dir("xdg"), *home = make_dir("home"), *dir = make_dir("xdg/ampshim");
    char buf[512], *want;

    setenv("XDG_CONFIG_HOME", xdg, 1);
    setenv("HOME", home, 1);
    char *generic = write_named("xdg/ampshim/ampshim.cfg", "");
    assert_int_equal(amp_config_discover("prog", buf, sizeof(buf)), 0);
    assert_string_equal(buf, generic);

    char *own = write_named("xdg/ampshim/prog.cfg", ""); /* preferred over ampshim.cfg */
    assert_int_equal(amp_config_discover("prog", buf, sizeof(buf)), 0);
    assert_string_equal(buf, own);
    assert_true(asprintf(&want, "%s/ampshim/prog.cfg", xdg) > 0);
    assert_string_equal(buf, want);

    /* another program gets ampshim.cfg */
    assert_int_equal(amp_config_discover("other", buf, sizeof(buf)), 0);
    assert_string_equal(buf, generic);

    env_restore(saved);
    remove_file(own);
    remove_file(generic);
    free(want);
    rmdir(dir), rmdir(xdg), rmdir(home);
    free(dir), free(xdg), free(home);
}

static void discover_in_home_config(void **state)
{
    (void)state;
    struct env_save saved = env_save();
    char *xdg = make_dir("xdg2"), *home = make_dir("home2");
    char *d1 = make_dir("home2/.config"), *d2 = make_dir("home2/.config/ampshim");
    char buf[512];

    setenv("XDG_CONFIG_HOME", xdg, 1);
    setenv("HOME", home, 1);
    char *own = write_named("home2/.config/ampshim/prog.cfg", "");
    assert_int_equal(amp_config_discover("prog", buf, sizeof(buf)), 0);
    assert_string_equal(buf, own);

    env_restore(saved);
    remove_file(own);
    rmdir(d2), rmdir(d1), rmdir(xdg), rmdir(home);
    free(d2), free(d1), free(xdg), free(home);
}

/* As the first stage does in every process (stage1_env.c), then hands the
 * copy to the core: here the test is both. */
__attribute__((constructor)) static void capture_as_the_first_stage(int argc, char **argv, char **envp)
{
    amp_stage1_capture(argc, argv, envp);
    amp_env_attach(amp_stage1_env());
}

/* An environment cleared after start (php-fpm's clear_env): what ampshim
 * reads is still the value the process started with; one set since is
 * read as it is now. */
static void env_cleared_after_start(void **state)
{
    (void)state;
    const char *home = getenv("HOME");
    if (!home)
        skip();
    char *start = strdup(home);
    assert_non_null(start);
    assert_int_equal(unsetenv("HOME"), 0);
    assert_non_null(amp_env("HOME"));
    assert_string_equal(amp_env("HOME"), start);
    setenv("HOME", "/elsewhere", 1);
    assert_string_equal(amp_env("HOME"), "/elsewhere");
    setenv("HOME", start, 1);
    assert_null(amp_env("AMPSHIM_NEVER_SET_IN_THIS_TEST"));
    assert_true(amp_env_set("HOME"));
    assert_false(amp_env_set("AMPSHIM_NEVER_SET_IN_THIS_TEST"));
    assert_string_equal(amp_env_program(), "test_config");
    free(start);
}

static void discover_none(void **state)
{
    (void)state;
    struct env_save saved = env_save();
    char *xdg = make_dir("xdg3"), *home = make_dir("home3");
    char buf[512] = "";

    if (access("/etc/ampshim/prog.cfg", F_OK) == 0 || access("/etc/ampshim/ampshim.cfg", F_OK) == 0)
        skip(); /* this machine has a system-wide config */
    setenv("XDG_CONFIG_HOME", xdg, 1);
    setenv("HOME", home, 1);
    assert_int_equal(amp_config_discover("prog", buf, sizeof(buf)), -1);
    /* a program name with a slash is never looked up as a path */
    assert_int_equal(amp_config_discover("../prog", buf, sizeof(buf)), -1);

    env_restore(saved);
    rmdir(xdg), rmdir(home);
    free(xdg), free(home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_config_loads),
        cmocka_unit_test(unknown_setting_suggests),
        cmocka_unit_test(key_file_exposed),
        cmocka_unit_test(loaded_routes_match_and_rewrite),
        cmocka_unit_test(headers_for_installation_route),
        cmocka_unit_test(headers_for_integration_route),
        cmocka_unit_test(rate_limiter_throttle_adds_header),
        cmocka_unit_test(rate_limiter_empty_means_none),
        cmocka_unit_test(installation_id_wins_with_a_note),
        cmocka_unit_test(proxy_http_to_loopback_accepted),
        cmocka_unit_test(api_key_env_is_read),
        cmocka_unit_test(api_key_env_unset_is_an_error),
        cmocka_unit_test(api_key_file_beside_the_config),
        cmocka_unit_test(api_key_file_unreadable_is_an_error),
        cmocka_unit_test(files_that_are_not_files),
        cmocka_unit_test(keys_that_are_not_keys),
        cmocka_unit_test(no_key_is_an_error),
        cmocka_unit_test(two_key_sources_are_an_error),
        cmocka_unit_test(syntax_error_names_its_line),
        cmocka_unit_test(missing_proxy_group_is_an_error),
        cmocka_unit_test(missing_routes_is_an_error),
        cmocka_unit_test(proxy_url_must_be_https),
        cmocka_unit_test(project_id_must_be_a_uuid),
        cmocka_unit_test(rate_limiter_mode_other_value_rejected),
        cmocka_unit_test(route_needs_an_identity),
        cmocka_unit_test(route_integration_name_must_be_lowercase),
        cmocka_unit_test(route_bad_base_url),
        cmocka_unit_test(unknown_setting_names_its_line),
        cmocka_unit_test(header_values_without_control_characters),
        cmocka_unit_test(throttle_settings_load),
        cmocka_unit_test(throttle_errors),
        cmocka_unit_test(missing_file_is_an_error),
        cmocka_unit_test(kept_apart_from_the_heap),
        cmocka_unit_test(the_load_says_when_libconfig_read_it_whole),
        cmocka_unit_test(discover_in_xdg_config_home),
        cmocka_unit_test(discover_in_home_config),
        cmocka_unit_test(discover_none),
        cmocka_unit_test(env_cleared_after_start),
    };

    return cmocka_run_group_tests(tests, make_scratch, drop_scratch);
}
