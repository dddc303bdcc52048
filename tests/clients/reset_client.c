/* curl_easy_reset called from one of a handle's own callbacks while the
 * multi interface runs its transfer:
 *   reset_client LOOP[:END] CALLBACK[-abort|-set] URL [AGAIN_URL]
 * CALLBACK is write, header, xferinfo, debug or prereq: the first call of
 * it that sees the answer (the first piece of the body, the status line, a
 * byte received, the first header line in; prereq: its one call, before
 * the request goes) resets the handle; or done: no callback, the program
 * resets it once the transfer is done, before reading its message.
 * -abort: that call then stops the transfer (its return; prereq needs it:
 * libcurl 7.88 itself cannot send a request whose handle was reset there);
 * -set: it sets the handle's write callback and error buffer again, as a
 * program reusing the handle at once does (else libcurl writes the rest of
 * the body to stdout, its default). LOOP drives the multi handle with
 * curl_multi_perform (perform) or an event loop on curl_multi_socket_action
 * (socket) until the transfer is done; its message is read and the handle
 * taken out. END: the handle is not taken out, but cleaned up while in the
 * multi handle, before it (cleanup) or after it (multi). With AGAIN_URL the
 * reset handle is then used for it, through the same multi handle. Each
 * transfer prints, on a line of its own:
 *   "TAG rc=RC status=HTTP done=0|1 resets=N err=ERRBUF"
 * (TAG first or again; rc -1 when no message came). */
#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CURL *h;
static char err[CURL_ERROR_SIZE];
static const char *which;
static int abort_after, set_after, resets;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* The reset, once; what the callback returns after it. */
static int reset_now(const char *cb)
{
    if (resets || strcmp(cb, which) != 0)
        return 0;
    resets++;
    curl_easy_reset(h);
    if (set_after) {
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    }
    return 1;
}

static size_t on_write(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return reset_now("write") && abort_after ? 0 : s * n;
}

static size_t on_header(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return reset_now("header") && abort_after ? 0 : s * n;
}

static int on_xferinfo(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)u, (void)dt, (void)ut, (void)un;
    return dn > 0 && reset_now("xferinfo") && abort_after;
}

static int on_prereq(void *u, char *pip, char *lip, int pport, int lport)
{
    (void)u, (void)pip, (void)lip, (void)pport, (void)lport;
    return reset_now("prereq") && abort_after ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

static int on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *u)
{
    (void)e, (void)data, (void)size, (void)u;
    if (type == CURLINFO_HEADER_IN)
        reset_now("debug");
    return 0;
}

/* --- the socket_action loop (as multi_client.c's) ------------------------- */
#define MAXFD 16
static struct pollfd fds[MAXFD];
static int nfds;
static long timeout_ms = -1;

static int on_socket(CURL *e, curl_socket_t s, int what, void *up, void *sp)
{
    int i;

    (void)e, (void)up, (void)sp;
    for (i = 0; i < nfds && fds[i].fd != s; i++)
        ;
    if (what == CURL_POLL_REMOVE) {
        if (i < nfds)
            fds[i] = fds[--nfds];
        return 0;
    }
    if (i == nfds) {
        if (nfds == MAXFD)
            return -1;
        nfds++;
    }
    fds[i].fd = s;
    fds[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    return 0;
}

static int on_timer(CURLM *m, long ms, void *up)
{
    (void)m, (void)up;
    timeout_ms = ms;
    return 0;
}

static void drive(CURLM *m, int socket_loop)
{
    int running = 1;

    if (!socket_loop) {
        while (running) {
            curl_multi_perform(m, &running);
            if (running)
                curl_multi_poll(m, NULL, 0, 1000, NULL);
        }
        return;
    }
    curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
    while (running) {
        int r = poll(fds, (nfds_t)nfds, timeout_ms < 0 ? 100 : (int)timeout_ms);
        if (r <= 0) {
            curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
            continue;
        }
        for (int k = 0; k < nfds; k++) {
            int ev = ((fds[k].revents & POLLIN) ? CURL_CSELECT_IN : 0) |
                     ((fds[k].revents & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                     ((fds[k].revents & (POLLERR | POLLHUP)) ? CURL_CSELECT_ERR : 0);
            if (ev)
                curl_multi_socket_action(m, fds[k].fd, ev, &running);
        }
    }
}

/* One transfer of h through m: added, driven, its message read, taken
 * out (unless keep). */
static void transfer(CURLM *m, int socket_loop, const char *tag, int keep)
{
    CURLMsg *msg;
    int queued, rc = -1, done = 0;
    long status = 0;

    err[0] = '\0';
    curl_multi_add_handle(m, h);
    drive(m, socket_loop);
    reset_now("done");
    while ((msg = curl_multi_info_read(m, &queued)))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) {
            rc = (int)msg->data.result;
            done = 1;
        }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (!keep)
        curl_multi_remove_handle(m, h);
    /* A line of its own: the rest of a body libcurl wrote to stdout has no newline. */
    printf("\n%s rc=%d status=%ld done=%d resets=%d err=%s\n", tag, rc, status, done, resets, err);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int socket_loop = !strncmp(argv[1], "socket", 6);
    const char *end = strchr(argv[1], ':');
    end = end ? end + 1 : "";
    char cb[32];
    snprintf(cb, sizeof(cb), "%s", argv[2]);
    char *dash = strchr(cb, '-');
    if (dash) {
        abort_after = !strcmp(dash, "-abort");
        set_after = !strcmp(dash, "-set");
        *dash = '\0';
    }
    which = cb;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    if (socket_loop) {
        curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
    }
    h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, argv[3]);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
    if (!strcmp(which, "debug")) {
        curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
        curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    }
    transfer(m, socket_loop, "first", *end != '\0');
    if (argc > 4 && !*end) {
        curl_easy_setopt(h, CURLOPT_URL, argv[4]);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        transfer(m, socket_loop, "again", 0);
    }
    if (!strcmp(end, "multi")) {
        curl_multi_cleanup(m);
        curl_easy_cleanup(h);
    } else {
        curl_easy_cleanup(h);
        curl_multi_cleanup(m);
    }
    curl_global_cleanup();
    return 0;
}
