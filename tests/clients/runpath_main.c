/* dlopen by bare name, resolved through this program's RUNPATH: glibc
 * reads the RUNPATH of dlopen's caller, so an interposed dlopen must keep
 * the caller's address (the tail call in hooks.c). */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
    void *h = dlopen("libplug.so", RTLD_NOW);
    if (!h) {
        printf("dlopen failed: %s\n", dlerror());
        return 1;
    }
    int (*answer)(void) = (int (*)(void))dlsym(h, "plug_answer");
    printf("plugin says %d\n", answer ? answer() : -1);
    dlclose(h);
    return 0;
}
