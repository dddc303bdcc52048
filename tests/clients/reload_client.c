/* A config read again and again while transfers run:
 *   reload_client THREADS REQUESTS URL LIMIT_KB MODE CFG TEXT_A TEXT_B [FILE...]
 * Before each of its REQUESTS routed transfers (to URL/<n>), thread 0
 * changes the config file CFG: MODE "write" puts the contents of TEXT_A
 * and TEXT_B there in turn (a new file renamed over it), "touch" only
 * moves its mtime on (and that of each FILE, a key file say), "multi" is
 * "write" with one more transfer (to URL/held) added to a multi handle
 * before the first change and run only after the last, "hosts" is "write"
 * with the other threads' transfers each on a new handle, to a host of 40
 * ("h<k>-" before URL's: new origins decided while configs change). The other
 * THREADS - 1 threads perform transfers on handles of their own until
 * thread 0 is done. Each thread keeps one handle.
 *
 * The library looks at its files once the UTC second has moved on since
 * it last looked; this program's time() and coarse wall clock (which the
 * library's calls bind to: they are exported, -rdynamic) move on a second
 * at each call, so that every transfer looks, and thousands of reloads
 * take seconds. Every other clock is the kernel's.
 *
 * Thread 0 reads VmRSS after its first tenth of the transfers (libcurl's
 * own caches made) and at the end, and stops early once it has grown by
 * more than LIMIT_KB (0: never). Prints
 * "ok N failed M done D rss_start KB rss_end KB". */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static time_t base;
static atomic_long ticks;

time_t time(time_t *t)
{
    time_t now = base + (time_t)atomic_fetch_add(&ticks, 1);

    if (t)
        *t = now;
    return now;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    if (id != CLOCK_REALTIME_COARSE)
        return (int)syscall(SYS_clock_gettime, id, ts);
    ts->tv_sec = time(NULL);
    ts->tv_nsec = 0;
    return 0;
}

static const char *url, *mode, *cfg;
static char *text[2];
static size_t len[2];
static char **extra;
static int nextra, requests;
static long limit_kb;
static atomic_int stop;
static atomic_int ok_count, failed_count;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        rewind(f);
        if (size >= 0 && (buf = malloc((size_t)size + 1)))
            *n = fread(buf, 1, (size_t)size, f);
    }
    fclose(f);
    return buf;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* The files' mtime, a whole second later each time. */
static void touch(const char *path, int i)
{
    struct timespec ts[2] = { { base + i, 0 }, { base + i, 0 } };

    utimensat(AT_FDCWD, path, ts, 0);
}

static void change(int i)
{
    if (strcmp(mode, "touch") == 0) {
        touch(cfg, i);
        for (int k = 0; k < nextra; k++)
            touch(extra[k], i);
        return;
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.new", cfg);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text[i % 2], len[i % 2]) != (ssize_t)len[i % 2]) {
        perror(tmp);
        exit(3);
    }
    close(fd);
    touch(tmp, i);
    rename(tmp, cfg);
}

static int perform(CURL *h, long t, int i)
{
    char u[512];
    long status = 0;

    const char *host = strstr(url, "://");
    if (t && host && strcmp(mode, "hosts") == 0)
        snprintf(u, sizeof(u), "%.*sh%d-%s/t%ld/%d", (int)(host + 3 - url), url, i % 40, host + 3, t, i);
    else
        snprintf(u, sizeof(u), "%s/t%ld/%d", url, t, i);
    curl_easy_setopt(h, CURLOPT_URL, u);
    int good = curl_easy_perform(h) == CURLE_OK &&
               curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
    atomic_fetch_add(good ? &ok_count : &failed_count, 1);
    return good;
}

static void *worker(void *arg)
{
    long t = (long)arg;
    CURL *h = curl_easy_init();

    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    for (int i = 0; !atomic_load(&stop); i++) {
        if (strcmp(mode, "hosts") == 0) { /* a new handle: its first URL */
            curl_easy_cleanup(h);
            h = curl_easy_init();
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        }
        perform(h, t, i);
    }
    curl_easy_cleanup(h);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 9)
        return 2;
    int threads = atoi(argv[1]);
    requests = atoi(argv[2]);
    url = argv[3];
    limit_kb = atol(argv[4]);
    mode = argv[5];
    cfg = argv[6];
    extra = argv + 9;
    nextra = argc - 9;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    base = now.tv_sec;
    for (int k = 0; k < 2; k++)
        if (!(text[k] = slurp(argv[7 + k], &len[k])))
            return 2;
    pthread_t th[64];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (long t = 1; t < threads && t < 64; t++)
        pthread_create(&th[t], NULL, worker, (void *)t);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    long rss_start = rss_kb(), rss_end = 0;
    CURLM *m = NULL;
    CURL *held = NULL;
    if (strcmp(mode, "multi") == 0) {
        char u[512];
        snprintf(u, sizeof(u), "%s/held", url);
        m = curl_multi_init();
        held = curl_easy_init();
        curl_easy_setopt(held, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(held, CURLOPT_URL, u);
        curl_multi_add_handle(m, held);
    }
    int done = 0;
    for (; done < requests; done++) {
        if (done == requests / 10)
            rss_start = rss_kb();
        change(done);
        perform(h, 0, done);
        if (limit_kb && done > requests / 10 && (done & 15) == 0 &&
            rss_kb() - rss_start > limit_kb) {
            done++;
            break;
        }
    }
    rss_end = rss_kb();
    if (m) {
        int running = 1, queued;
        long status = 0;
        while (running && curl_multi_perform(m, &running) == CURLM_OK)
            if (running)
                curl_multi_poll(m, NULL, 0, 100, NULL);
        for (CURLMsg *msg; (msg = curl_multi_info_read(m, &queued));)
            if (msg->msg == CURLMSG_DONE)
                atomic_fetch_add(msg->data.result == CURLE_OK &&
                                         curl_easy_getinfo(held, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
                                         status == 200
                                     ? &ok_count
                                     : &failed_count,
                                 1);
        curl_multi_remove_handle(m, held);
        curl_easy_cleanup(held);
        curl_multi_cleanup(m);
    }
    curl_easy_cleanup(h);
    atomic_store(&stop, 1);
    for (int t = 1; t < threads && t < 64; t++)
        pthread_join(th[t], NULL);
    curl_global_cleanup();
    printf("ok %d failed %d done %d rss_start %ld rss_end %ld\n", atomic_load(&ok_count),
           atomic_load(&failed_count), done, rss_start, rss_end);
    return atomic_load(&failed_count) ? 1 : 0;
}
