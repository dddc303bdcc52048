/* One handle through a script of option changes and transfers, the way a
 * long-lived program uses it: ampshim's options stay on a handle between
 * routed transfers, and the application's must be back wherever it could
 * tell. Each argument is a step:
 *   url=URL  port=N  noproxy=STR  headeropt=unified|separate  insecure=0|1
 *   verbose=0|1  follow=0|1  header=LINE (a new list of one line)
 *   inplace=LINE (the list's line overwritten in place: same length or less)
 *   append=LINE (a line appended to the list in place, not set again)
 *   callbacks  (a header and a debug callback of the application's)
 *   perform    dup (perform a duplicate of the handle, then clean it up)
 *   madd       add the handle to a multi handle (options may then still change)
 *   mrun       drive that multi handle until the transfer is done, print
 *              (the effective URL read before curl_multi_info_read), then
 *              read its message and take the handle out
 *   mdrive     drive it until the transfer is done, its message not read
 *              (options may then still change, as R's RCurl does)
 *   mread      read that message, print, and take the handle out
 *   mremove    take the handle out, its message not read, and print its error
 *              buffer (GDAL's multi loop reads it so)
 *   errbuf2    from now on the handle's error buffer is another one (set
 *              late too: after madd)
 *   resolve=HOST:PORT:ADDR  connect_to=HOST:PORT:HOST:PORT  (a list of one)
 *   cbset      from now on the header callback sets CURLOPT_VERBOSE again (to
 *              what it is) on each status line, and CURLOPT_RESOLVE to the
 *              list it has, as programs re-setting options from callbacks do
 *   cbreset    the next transfer's write callback calls curl_easy_reset
 *   cbheader   the next transfer's write callback sets the header callback
 *              (and its data), at its first call: its answer is under way
 *   cburl=URL  the progress callback sets CURLOPT_URL to URL once the request
 *              has been sent (CURLINFO_REQUEST_SIZE > 0), before any answer
 *   cookies    libcurl's cookie engine on (CURLOPT_COOKIEFILE "")
 *   reset      curl_easy_reset between transfers (the error buffer and the
 *              write callback set again)
 *   curlu=URL  CURLOPT_CURLU set to a CURLU of URL (empty: set to NULL)
 *   swap=FROM:TO  the file FROM renamed over TO (a config replaced)
 *   wait       sleep 1.2 s (the library looks at its config's files again
 *              once the UTC second has moved on, at a transfer's start)
 * Each perform prints
 *   "TAG rc=RC status=HTTP url=EFFECTIVE redirect=REDIRECT_URL hdrlines=N debug=N data_ok=0|1 err=ERRBUF"
 * where hdrlines and debug count the application's callbacks' calls in that
 * transfer, and data_ok says they always got the application's own pointers.
 * The debug callback writes what it is given to stderr, as libcurl would. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char err[CURL_ERROR_SIZE], err2[CURL_ERROR_SIZE];
static char *errbuf = err; /* the one the handle has */
static int hdrlines, debugs, data_ok = 1;
static CURL *h;
static struct curl_slist *resolve;
static long verbose;
static int set_in_callback, reset_in_callback, header_in_callback;
static const char *url_in_callback;

static int on_progress(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    long sent = 0;

    (void)u, (void)dt, (void)dn, (void)ut, (void)un;
    if (url_in_callback && curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent > 0) {
        curl_easy_setopt(h, CURLOPT_URL, url_in_callback);
        url_in_callback = NULL;
    }
    return 0;
}
static int header_tag, debug_tag;

static size_t on_header(char *p, size_t s, size_t n, void *u);

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    if (reset_in_callback) {
        reset_in_callback = 0;
        curl_easy_reset(h);
    }
    if (header_in_callback) {
        header_in_callback = 0;
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &header_tag);
    }
    return s * n;
}

static size_t on_header(char *p, size_t s, size_t n, void *u)
{
    hdrlines++;
    data_ok &= u == &header_tag;
    if (set_in_callback && n > 5 && memcmp(p, "HTTP/", 5) == 0) {
        curl_easy_setopt(h, CURLOPT_VERBOSE, verbose);
        curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    }
    return s * n;
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *u)
{
    (void)h;
    debugs++;
    data_ok &= u == &debug_tag;
    if (type == CURLINFO_HEADER_OUT || type == CURLINFO_TEXT)
        fwrite(data, size, 1, stderr);
    return 0;
}

static void run(const char *tag, CURL *h)
{
    long status = 0;
    char *eff = NULL, *redir = NULL;

    err[0] = '\0';
    hdrlines = debugs = 0;
    data_ok = 1;
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redir);
    printf("%s rc=%d status=%ld url=%s redirect=%s hdrlines=%d debug=%d data_ok=%d err=%s\n", tag,
           (int)rc, status, eff ? eff : "", redir ? redir : "-", hdrlines, debugs, data_ok, err);
    fflush(stdout);
}

static int starts(const char *s, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) != 0)
        return 0;
    *rest = s + n;
    return 1;
}

int main(int argc, char **argv)
{
    struct curl_slist *list = NULL, *connect_to = NULL;
    CURLU *curlu = NULL;
    CURLM *multi = NULL;
    const char *v;
    int n = 0;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char tag[32];
        if (starts(a, "url=", &v)) {
            curl_easy_setopt(h, CURLOPT_URL, v);
        } else if (starts(a, "port=", &v)) {
            curl_easy_setopt(h, CURLOPT_PORT, atol(v));
        } else if (starts(a, "noproxy=", &v)) {
            curl_easy_setopt(h, CURLOPT_NOPROXY, v);
        } else if (starts(a, "headeropt=", &v)) {
            curl_easy_setopt(h, CURLOPT_HEADEROPT,
                             (long)(strcmp(v, "unified") ? CURLHEADER_SEPARATE : CURLHEADER_UNIFIED));
        } else if (starts(a, "insecure=", &v)) {
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, atol(v) ? 0L : 1L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, atol(v) ? 0L : 2L);
        } else if (starts(a, "verbose=", &v)) {
            verbose = atol(v);
            curl_easy_setopt(h, CURLOPT_VERBOSE, verbose);
        } else if (starts(a, "follow=", &v)) {
            curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, atol(v));
        } else if (starts(a, "header=", &v)) {
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
            curl_slist_free_all(list);
            list = curl_slist_append(NULL, v);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
        } else if (starts(a, "append=", &v)) {
            if (!list || !curl_slist_append(list, v))
                return 2;
        } else if (starts(a, "inplace=", &v)) {
            if (!list || strlen(v) > strlen(list->data))
                return 2;
            strcpy(list->data, v);
        } else if (!strcmp(a, "callbacks")) {
            curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
            curl_easy_setopt(h, CURLOPT_HEADERDATA, &header_tag);
            curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
            curl_easy_setopt(h, CURLOPT_DEBUGDATA, &debug_tag);
        } else if (!strcmp(a, "cbset")) {
            set_in_callback = 1;
        } else if (starts(a, "cburl=", &v)) {
            url_in_callback = v;
            curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        } else if (!strcmp(a, "cookies")) {
            curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
        } else if (!strcmp(a, "cbreset")) {
            reset_in_callback = 1;
        } else if (!strcmp(a, "cbheader")) {
            header_in_callback = 1;
        } else if (!strcmp(a, "reset")) {
            curl_easy_reset(h);
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        } else if (starts(a, "curlu=", &v)) {
            curl_easy_setopt(h, CURLOPT_CURLU, (CURLU *)NULL);
            curl_url_cleanup(curlu);
            curlu = NULL;
            if (*v) {
                curlu = curl_url();
                curl_url_set(curlu, CURLUPART_URL, v, 0);
                curl_easy_setopt(h, CURLOPT_CURLU, curlu);
            }
        } else if (starts(a, "swap=", &v)) {
            char from[1024];
            const char *colon = strchr(v, ':');
            if (!colon || (size_t)(colon - v) >= sizeof(from))
                return 2;
            memcpy(from, v, (size_t)(colon - v));
            from[colon - v] = '\0';
            if (rename(from, colon + 1) != 0)
                return 2;
        } else if (!strcmp(a, "wait")) {
            struct timespec ts = { 1, 200000000 };
            nanosleep(&ts, NULL);
        } else if (!strcmp(a, "perform")) {
            snprintf(tag, sizeof(tag), "perform-%d", ++n);
            run(tag, h);
        } else if (!strcmp(a, "madd")) {
            if (!multi)
                multi = curl_multi_init();
            err[0] = '\0';
            curl_multi_add_handle(multi, h);
        } else if (starts(a, "resolve=", &v) || starts(a, "connect_to=", &v)) {
            struct curl_slist **l = a[0] == 'r' ? &resolve : &connect_to;
            curl_slist_free_all(*l);
            *l = curl_slist_append(NULL, v);
            curl_easy_setopt(h, a[0] == 'r' ? CURLOPT_RESOLVE : CURLOPT_CONNECT_TO, *l);
        } else if (!strcmp(a, "mrun") || !strcmp(a, "mdrive") || !strcmp(a, "mread")) {
            int running = 1, queued;
            long status = 0;
            char *eff = NULL;
            while (running && strcmp(a, "mread")) {
                curl_multi_perform(multi, &running);
                if (running)
                    curl_multi_poll(multi, NULL, 0, 1000, NULL);
            }
            if (!strcmp(a, "mdrive"))
                continue;
            curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
            printf("mrun-%d url=%s", ++n, eff ? eff : "");
            CURLMsg *m = curl_multi_info_read(multi, &queued);
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            printf(" rc=%d status=%ld err=%s\n", m ? (int)m->data.result : -1, status, err);
            fflush(stdout);
            curl_multi_remove_handle(multi, h);
        } else if (!strcmp(a, "errbuf2")) {
            errbuf = err2;
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        } else if (!strcmp(a, "mremove")) {
            curl_multi_remove_handle(multi, h);
            printf("mremove-%d err=%s\n", ++n, errbuf);
            fflush(stdout);
        } else if (!strcmp(a, "dup")) {
            CURL *d = curl_easy_duphandle(h);
            snprintf(tag, sizeof(tag), "dup-%d", ++n);
            run(tag, d);
            curl_easy_cleanup(d);
        } else {
            fprintf(stderr, "sticky_client: unknown step %s\n", a);
            return 2;
        }
    }
    if (multi)
        curl_multi_cleanup(multi);
    curl_easy_cleanup(h);
    curl_url_cleanup(curlu);
    curl_slist_free_all(list);
    curl_slist_free_all(resolve);
    curl_slist_free_all(connect_to);
    curl_global_cleanup();
    return 0;
}
