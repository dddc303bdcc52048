/* One thread calls curl without pause while the main thread loads and
 * unloads a plugin that calls curl from its constructor: ampshim must
 * never hold a lock of its own across the dynamic loader (a deadlock).
 *   dl_race PLUGIN ROUNDS  ->  "done" */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int stop;

static void *worker(void *arg)
{
    (void)arg;
    CURL *h = curl_easy_init();
    while (!stop)
        curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
    curl_easy_cleanup(h);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    alarm(60); /* a deadlock fails the test instead of hanging it */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    for (int i = 0; i < atoi(argv[2]); i++) {
        void *p = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!p) {
            printf("dlopen: %s\n", dlerror());
            return 1;
        }
        dlclose(p);
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("done\n");
    return 0;
}
