/* Fuzz target: the config file (config.c, with libconfig and the provider
 * catalog). The input is the file's text, written to a private folder and
 * loaded with amp_config_load. A config that loads must be usable: every
 * route whose base URL has no placeholder matches that URL itself, and
 * the URL is rewritten under the proxy's. A load that fails must say
 * where ("FILE:" first). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "common.h"
#include "config.h"
#include "curlapi.h"
#include "route.h"

static char path[4200];
static int verbose; /* FUZZ_VERBOSE=1: say what each input gave (for triage) */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char key[4200];

    (void)argc, (void)argv;
    snprintf(path, sizeof(path), "%s/app.cfg", fuzz_scratch());
    /* The catalog of the source tree (mk/fuzz.mk gives its path); the key
     * sources conf/example.cfg and the unit tests' configs name. */
    amp_catalog_set_path(AMP_FUZZ_CATALOG);
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    setenv("AMPERSAND_API_KEY", "k-secret-123", 1);
    snprintf(key, sizeof(key), "%s/ampersand.key", fuzz_scratch());
    FUZZ_CHECK(fuzz_write_file(key, (const uint8_t *)"k-file-456\n", 11) == 0, "cannot write %s",
               key);
    return 0;
}

static void check_routes(const struct amp_config *cfg)
{
    const struct amp_curl *c = amp_curl_linked();

    for (size_t i = 0; i < cfg->routes.n; i++) {
        const struct amp_route *r = &cfg->routes.v[i];
        char *out = NULL;
        if (r->exact_labels != r->nlabels || r->exact_segs != r->nsegs)
            continue; /* a placeholder stands for something the URL cannot spell */
        const struct amp_route *m =
            amp_route_match(&cfg->routes, c, r->base_url, cfg->proxy_url, &out);
        FUZZ_CHECK(m != NULL, "route %zu (line %d) does not match its own base_url '%.300s'", i,
                   r->line, r->base_url);
        FUZZ_CHECK(out && !strncmp(out, cfg->proxy_url, strlen(cfg->proxy_url)),
                   "'%.300s' rewritten to '%.300s', not under the proxy '%s'", r->base_url,
                   out ? out : "(null)", cfg->proxy_url);
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amp_config *cfg = NULL;
    char err[1024] = "";

    FUZZ_CHECK(fuzz_write_file(path, data, size) == 0, "cannot write %s", path);
    if (amp_config_load(path, amp_curl_linked(), &cfg, err, sizeof(err)) == 0) {
        FUZZ_CHECK(cfg != NULL, "loaded, but no config");
        if (verbose)
            fprintf(stderr, "loaded: %zu routes\n", cfg->routes.n);
        check_routes(cfg);
        amp_config_free(cfg);
    } else {
        FUZZ_CHECK(cfg == NULL, "failed, but a config was given back");
        if (verbose)
            fprintf(stderr, "refused: %s\n", err);
        FUZZ_CHECK(!strncmp(err, path, strlen(path)) && err[strlen(path)] == ':',
                   "the error does not name the file: '%s'", err);
    }
    return 0;
}
