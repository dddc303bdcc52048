/* Lean-transfer probes (review17): one curl_easy_perform per mode, printing
 * what the application sees (bytes, userdata identity, rc, status) so that a
 * run under ampshim can be diffed against a run without it.
 *   lean MODE URL   MODE: late pause nullfn nobody auth private dup reset plain */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CURL *h;
static int tag_a, tag_b;
static size_t seen;
static int paused, reset_done;
static const char *mode;

static size_t wr(char *b, size_t s, size_t n, void *ud)
{
    void *priv = NULL;
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    printf("write %zu ud=%s priv=%s status=%ld [%.*s]\n", s * n, ud == &tag_a ? "A" : ud == &tag_b ? "B" : "?",
           priv == &tag_b ? "B" : priv ? "?" : "-", st, (int)(s * n > 20 ? 20 : s * n), b);
    if (!strcmp(mode, "pause") && !paused) {
        paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (!strcmp(mode, "reset") && !reset_done) {
        reset_done = 1;
        curl_easy_reset(h);
    }
    seen += s * n;
    return s * n;
}

static int prog(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)p, (void)dt, (void)ut, (void)un;
    if (!strcmp(mode, "late") && dn == 0) {
        static int once;
        if (!once++) {
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, wr);
            curl_easy_setopt(h, CURLOPT_WRITEDATA, &tag_a);
        }
    }
    if (!strcmp(mode, "pause") && paused == 1) {
        paused = 2;
        curl_easy_pause(h, CURLPAUSE_CONT);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    mode = argv[1];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, argv[2]);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, prog);
    FILE *tmp = NULL;
    if (strcmp(mode, "late") && strcmp(mode, "nullfn")) {
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, wr);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &tag_a);
    }
    if (!strcmp(mode, "nullfn")) {
        tmp = tmpfile();
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, (curl_write_callback)NULL);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, tmp);
    }
    if (!strcmp(mode, "nobody"))
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (!strcmp(mode, "auth")) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_ANY);
        curl_easy_setopt(h, CURLOPT_USERPWD, "u:p");
    }
    if (!strcmp(mode, "private"))
        curl_easy_setopt(h, CURLOPT_PRIVATE, &tag_b);
    CURLcode rc = curl_easy_perform(h);
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    printf("perform rc=%d status=%ld seen=%zu\n", rc, st, seen);
    if (tmp) {
        char buf[64] = "";
        rewind(tmp);
        size_t n = fread(buf, 1, sizeof(buf) - 1, tmp);
        printf("file %zu [%.20s]\n", n, buf);
    }
    if (!strcmp(mode, "dup")) {
        CURL *d = curl_easy_duphandle(h);
        CURL *keep = h;
        h = d;
        seen = 0;
        rc = curl_easy_perform(d);
        curl_easy_getinfo(d, CURLINFO_RESPONSE_CODE, &st);
        printf("dup perform rc=%d status=%ld seen=%zu\n", rc, st, seen);
        curl_easy_cleanup(d);
        h = keep;
    }
    if (argc > 3) { /* a second perform on the same handle, another URL */
        seen = 0;
        curl_easy_setopt(h, CURLOPT_URL, argv[3]);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
        printf("second perform rc=%d status=%ld seen=%zu\n", rc, st, seen);
    }
    curl_easy_cleanup(h);
    return 0;
}
