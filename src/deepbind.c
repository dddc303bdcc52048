/* Reading DT_NEEDED from an ELF file before it is loaded, for the first
 * stage's dlopen (deepbind.h): the one thing here no library on the host
 * already does for us (libelf would itself be something loaded into every
 * program). Native ELF class only. */
#define _GNU_SOURCE
#include "deepbind.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PHDRS 64
#define MAX_DYN 512

static int read_at(int fd, void *buf, size_t len, off_t off)
{
    return pread(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/* File offset of virtual address vaddr, through the PT_LOAD segments. */
static off_t offset_of(const ElfW(Phdr) *ph, int n, ElfW(Addr) vaddr)
{
    for (int i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
            vaddr < ph[i].p_vaddr + ph[i].p_filesz)
            return (off_t)(ph[i].p_offset + (vaddr - ph[i].p_vaddr));
    return -1;
}

/* 1 when the ELF file at path (a path with a '/') lists a libcurl among
 * its DT_NEEDED entries; 0 otherwise, and for anything unreadable. */
int amp_deepbind_needs_libcurl(const char *path)
{
    ElfW(Ehdr) eh;
    ElfW(Phdr) ph[MAX_PHDRS];
    ElfW(Dyn) dyn[MAX_DYN];
    int found = 0, fd, ndyn = 0;

    if (!strchr(path, '/'))
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    if (read_at(fd, &eh, sizeof(eh), 0) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
        eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum > MAX_PHDRS ||
        read_at(fd, ph, eh.e_phnum * sizeof(ElfW(Phdr)), (off_t)eh.e_phoff) < 0)
        goto out;
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_DYNAMIC)
            continue;
        size_t len = ph[i].p_filesz < sizeof(dyn) ? ph[i].p_filesz : sizeof(dyn);
        if (read_at(fd, dyn, len, (off_t)ph[i].p_offset) < 0)
            goto out;
        ndyn = (int)(len / sizeof(ElfW(Dyn)));
    }
    ElfW(Addr) strtab = 0;
    for (int i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++)
        if (dyn[i].d_tag == DT_STRTAB)
            strtab = dyn[i].d_un.d_ptr;
    off_t stroff = strtab ? offset_of(ph, eh.e_phnum, strtab) : -1;
    if (stroff < 0)
        goto out;
    for (int i = 0; i < ndyn && dyn[i].d_tag != DT_NULL && !found; i++) {
        char name[32] = { 0 };
        if (dyn[i].d_tag != DT_NEEDED)
            continue;
        /* A short read near the end of the file still fills a prefix. */
        if (pread(fd, name, sizeof(name) - 1, stroff + (off_t)dyn[i].d_un.d_val) > 7)
            found = strncmp(name, "libcurl", 7) == 0 &&
                    (name[7] == '.' || name[7] == '-');
    }
out:
    close(fd);
    return found;
}
