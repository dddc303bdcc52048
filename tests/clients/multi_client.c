/* The multi interface, driven three ways, one easy handle per URL:
 *   multi_client perform|socket [-L] URL...
 * perform: curl_multi_perform + curl_multi_poll; socket: an event loop on
 * curl_multi_socket_action with poll(2). For each finished transfer, in
 * the order given:  "URL rc=RC status=HTTP url=EFFECTIVE err=ERRBUF" */
#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX 64

struct xfer {
    CURL *h;
    const char *url;
    char err[CURL_ERROR_SIZE];
    CURLcode rc;
    int done;
};

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* --- the socket_action loop ------------------------------------------- */
static struct pollfd fds[MAX];
static int nfds;
static long timeout_ms = -1;

static int on_socket(CURL *e, curl_socket_t s, int what, void *up, void *sp)
{
    (void)e;
    (void)up;
    (void)sp;
    int i;
    for (i = 0; i < nfds && fds[i].fd != s; i++)
        ;
    if (what == CURL_POLL_REMOVE) {
        if (i < nfds)
            fds[i] = fds[--nfds];
        return 0;
    }
    if (i == nfds) {
        if (nfds == MAX)
            return -1;
        nfds++;
    }
    fds[i].fd = s;
    fds[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    return 0;
}

static int on_timer(CURLM *m, long ms, void *up)
{
    (void)m;
    (void)up;
    timeout_ms = ms;
    return 0;
}

static void drain(CURLM *m, struct xfer *x, int n)
{
    CURLMsg *msg;
    int q;
    while ((msg = curl_multi_info_read(m, &q))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        for (int i = 0; i < n; i++)
            if (x[i].h == msg->easy_handle) {
                x[i].rc = msg->data.result;
                x[i].done = 1;
            }
    }
}

int main(int argc, char **argv)
{
    struct xfer x[MAX];
    int n = 0, follow = 0, i = 2, running = 1;

    if (argc < 3)
        return 2;
    const char *mode = argv[1];
    if (i < argc && !strcmp(argv[i], "-L")) {
        follow = 1;
        i++;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    for (; i < argc && n < MAX; i++, n++) {
        memset(&x[n], 0, sizeof(x[n]));
        x[n].url = argv[i];
        x[n].h = curl_easy_init();
        curl_easy_setopt(x[n].h, CURLOPT_URL, argv[i]);
        curl_easy_setopt(x[n].h, CURLOPT_ERRORBUFFER, x[n].err);
        curl_easy_setopt(x[n].h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(x[n].h, CURLOPT_FOLLOWLOCATION, (long)follow);
        curl_multi_add_handle(m, x[n].h);
    }
    if (!strcmp(mode, "socket")) {
        curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
        while (running) {
            int r = poll(fds, (nfds_t)nfds, timeout_ms < 0 ? 100 : (int)timeout_ms);
            if (r <= 0) {
                curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
            } else {
                for (int k = 0; k < nfds; k++) {
                    int ev = ((fds[k].revents & POLLIN) ? CURL_CSELECT_IN : 0) |
                             ((fds[k].revents & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                             ((fds[k].revents & (POLLERR | POLLHUP)) ? CURL_CSELECT_ERR : 0);
                    if (ev)
                        curl_multi_socket_action(m, fds[k].fd, ev, &running);
                }
            }
            drain(m, x, n);
        }
    } else {
        do {
            curl_multi_perform(m, &running);
            drain(m, x, n);
            if (running)
                curl_multi_poll(m, NULL, 0, 1000, NULL);
        } while (running);
    }
    drain(m, x, n);
    for (int k = 0; k < n; k++) {
        long status = 0;
        char *eff = NULL;
        curl_easy_getinfo(x[k].h, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(m, x[k].h);
        curl_easy_getinfo(x[k].h, CURLINFO_EFFECTIVE_URL, &eff);
        printf("%s rc=%d status=%ld url=%s done=%d err=%s\n", x[k].url, x[k].done ? (int)x[k].rc : -1,
               status, eff ? eff : "", x[k].done, x[k].err);
        curl_easy_cleanup(x[k].h);
    }
    curl_multi_cleanup(m);
    curl_global_cleanup();
    return 0;
}
