/* A program that never uses curl: under the preload it must print only
 * its own line, and nothing may be loaded into it (it lists its objects). */
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>

static int show(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (info->dlpi_name[0])
        printf("object %s\n", info->dlpi_name);
    return 0;
}

int main(void)
{
    dl_iterate_phdr(show, NULL);
    printf("no curl here\n");
    return 0;
}
