/* A process that forks after using curl, while another thread keeps
 * using it: parent and child both go on routing.
 *   fork_client URL   ->  "parent rc=0 status=200" and "child rc=0 status=200" (x2) */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *url;
static volatile int stop;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static int once(const char *who, int print)
{
    long status = 0;
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (print) {
        printf("%s rc=%d status=%ld\n", who, (int)rc, status);
        fflush(stdout);
    }
    return rc == CURLE_OK && status == 200 ? 0 : 1;
}

/* Keeps our locks busy while the main thread forks. */
static void *busy(void *arg)
{
    (void)arg;
    while (!stop)
        once("busy", 0);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    url = argv[1];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int bad = once("parent", 1);
    pthread_t t;
    pthread_create(&t, NULL, busy, NULL);
    for (int i = 0; i < 2; i++) {
        usleep(20000);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(20); /* a deadlock fails the test instead of hanging it */
            _exit(once("child", 1));
        }
        int st = 0;
        waitpid(pid, &st, 0);
        bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    stop = 1;
    pthread_join(t, NULL);
    bad |= once("parent", 1);
    curl_global_cleanup();
    return bad;
}
