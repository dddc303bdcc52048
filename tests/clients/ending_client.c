/* The ways a transfer ends, or does not, as programs nobody here wrote do it:
 *   ending_client noinfo URL [URL2]  multi: run until nothing runs, remove the handle
 *                                    without curl_multi_info_read; then URL2 on the
 *                                    same handle with curl_easy_perform
 *   ending_client multi-cleanup URL  multi: run, then curl_multi_cleanup with the
 *                                    handle still in it; then the same handle again
 *   ending_client easy-cleanup URL   multi: run, then curl_easy_cleanup of the handle
 *                                    still in the multi
 *   ending_client abort-status URL   the header callback stops the transfer at the
 *                                    status line
 *   ending_client longjmp URL        the write callback long-jumps out of
 *                                    curl_easy_perform, and the program exits
 *   ending_client pause URL          the header callback pauses at each line, and the
 *                                    progress callback lets it go on (libcurl then hands
 *                                    over the held lines in one piece)
 * Each transfer prints "TAG rc=RC status=HTTP url=EFFECTIVE". */
#include <curl/curl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

static jmp_buf out;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static size_t stop_at_status(char *p, size_t s, size_t n, void *u)
{
    (void)u;
    return strncmp(p, "HTTP/", 5) == 0 ? 0 : s * n;
}

static size_t jump_out(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)s;
    (void)n;
    (void)u;
    longjmp(out, 1);
}

static CURL *paused_handle;
static int paused;

static size_t pause_each(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    if (!paused) {
        paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    paused = 0;
    return s * n;
}

static int unpause(void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)u;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    if (paused)
        curl_easy_pause(paused_handle, CURLPAUSE_CONT);
    return 0;
}

static void show(const char *tag, CURL *h, int rc)
{
    long status = 0;
    char *eff = NULL;

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
    printf("%s rc=%d status=%ld url=%s\n", tag, rc, status, eff ? eff : "");
    fflush(stdout);
}

static CURL *make(const char *url)
{
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    return h;
}

/* Drives multi until nothing runs, as GIS and data tools do. */
static CURLM *run_multi(CURL *h)
{
    CURLM *m = curl_multi_init();
    int running = 1;

    curl_multi_add_handle(m, h);
    while (running) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    return m;
}

static void perform_and_jump(CURL *h)
{
    if (!setjmp(out))
        curl_easy_perform(h);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ending_client MODE URL [URL2]\n");
        return 2;
    }
    const char *mode = argv[1], *url = argv[2];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = make(url);
    if (!strcmp(mode, "noinfo")) {
        CURLM *m = run_multi(h);
        show("multi", h, -1);
        curl_multi_remove_handle(m, h);
        curl_multi_cleanup(m);
        if (argc > 3) {
            curl_easy_setopt(h, CURLOPT_URL, argv[3]);
            show("easy", h, (int)curl_easy_perform(h));
        }
    } else if (!strcmp(mode, "multi-cleanup")) {
        CURLM *m = run_multi(h);
        show("multi", h, -1);
        curl_multi_cleanup(m);
        show("easy", h, (int)curl_easy_perform(h));
    } else if (!strcmp(mode, "easy-cleanup")) {
        CURLM *m = run_multi(h);
        show("multi", h, -1);
        curl_easy_cleanup(h);
        h = NULL;
        curl_multi_cleanup(m);
    } else if (!strcmp(mode, "abort-status")) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, stop_at_status);
        show("easy", h, (int)curl_easy_perform(h));
    } else if (!strcmp(mode, "pause")) {
        paused_handle = h;
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, pause_each);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, unpause);
        show("easy", h, (int)curl_easy_perform(h));
    } else if (!strcmp(mode, "longjmp")) {
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, jump_out);
        perform_and_jump(h);
        printf("jumped out\n");
        return 0; /* the handle is never touched again */
    } else {
        fprintf(stderr, "ending_client: unknown mode %s\n", mode);
        return 2;
    }
    if (h)
        curl_easy_cleanup(h);
    curl_global_cleanup();
    return 0;
}
