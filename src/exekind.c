/* Reading a program's ELF headers (native class and byte order only: the
 * library is built for the launcher's own ABI, and the loader itself says
 * when it cannot preload it into another). Every offset and size read from
 * the file is checked against what was read: a file is data, never trusted. */
#define _GNU_SOURCE
#include "exekind.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The native ELF types (link.h's ElfW). */
typedef ElfW(Ehdr) Ehdr;
typedef ElfW(Phdr) Phdr;
typedef ElfW(Shdr) Shdr;
typedef ElfW(Nhdr) Nhdr;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif
#define NATIVE_CLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)

/* Tables and notes larger than this are not read (no real program has them). */
#define MAX_TABLE (1u << 20)

/* Go's build ID note: owner "Go", type 4 (cmd/link's ELF_NOTE_GOBUILDID_TAG). */
#define GO_NOTE_TYPE 4

int amp_exekind_find(const char *cmd, char *buf, size_t len)
{
    if (strchr(cmd, '/'))
        return snprintf(buf, len, "%s", cmd) < (int)len ? 0 : -1;
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin"; /* execvp's default */
    for (const char *p = path;; p++) {
        const char *end = strchrnul(p, ':');
        struct stat st;
        /* An empty entry is the current folder, as execvp takes it. */
        if (snprintf(buf, len, "%.*s%s%s", (int)(end - p), p, end == p ? "" : "/", cmd) < (int)len &&
            access(buf, X_OK) == 0 && stat(buf, &st) == 0 && S_ISREG(st.st_mode))
            return 0;
        if (!*end)
            return -1;
        p = end;
    }
}

/* len bytes at off, malloc'd; NULL when the file has not that many there. */
static void *read_at(int fd, off_t off, size_t len)
{
    char *p;

    if (!len || len > MAX_TABLE || off < 0)
        return NULL;
    p = malloc(len);
    if (!p)
        return NULL;
    if (pread(fd, p, len, off) != (ssize_t)len) {
        free(p);
        return NULL;
    }
    return p;
}

/* A note of Go's among the notes of n bytes at p. */
static int go_note(const char *p, size_t n)
{
    size_t at = 0;

    while (n - at >= sizeof(Nhdr)) {
        Nhdr h;
        memcpy(&h, p + at, sizeof(h));
        size_t name = (h.n_namesz + 3u) & ~(size_t)3, desc = (h.n_descsz + 3u) & ~(size_t)3;
        if (name > n || desc > n || sizeof(h) + name + desc > n - at)
            return 0;
        if (h.n_type == GO_NOTE_TYPE && h.n_namesz == 3 && memcmp(p + at + sizeof(h), "Go", 3) == 0)
            return 1;
        at += sizeof(h) + name + desc;
    }
    return 0;
}

/* A section named .note.go.buildid or .go.buildinfo (a stripped program
 * may have no section table: then the notes alone tell). */
static int go_section(int fd, const Ehdr *e)
{
    if (e->e_shoff == 0 || e->e_shentsize != sizeof(Shdr) || e->e_shnum == 0 ||
        e->e_shstrndx >= e->e_shnum)
        return 0;
    Shdr *sh = read_at(fd, (off_t)e->e_shoff, (size_t)e->e_shnum * sizeof(Shdr));
    if (!sh)
        return 0;
    const Shdr *names = &sh[e->e_shstrndx];
    char *str = read_at(fd, (off_t)names->sh_offset, (size_t)names->sh_size);
    int go = 0;
    for (size_t i = 0; str && i < e->e_shnum && !go; i++) {
        size_t at = sh[i].sh_name;
        if (at >= names->sh_size)
            continue;
        const char *name = str + at;
        size_t room = (size_t)names->sh_size - at;
        go = (room > 16 && memcmp(name, ".note.go.buildid", 17) == 0) ||
             (room > 13 && memcmp(name, ".go.buildinfo", 14) == 0);
    }
    free(str);
    free(sh);
    return go;
}

/* Whether the dynamic segment of n bytes at p names a DT_SONAME: the loader
 * (ld.so run as a program, which honours LD_PRELOAD) has one; a static PIE,
 * which also has a PT_DYNAMIC and no PT_INTERP but relocates itself and
 * loads nothing, has none. */
static int has_soname(const char *p, size_t n)
{
    for (size_t at = 0; n - at >= sizeof(ElfW(Dyn)); at += sizeof(ElfW(Dyn))) {
        ElfW(Dyn) d;
        memcpy(&d, p + at, sizeof(d));
        if (d.d_tag == DT_NULL)
            return 0;
        if (d.d_tag == DT_SONAME)
            return 1;
    }
    return 0;
}

enum amp_exekind amp_exekind_of(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    Ehdr e;
    enum amp_exekind kind = AMP_EXE_UNKNOWN;

    if (fd < 0)
        return kind;
    if (pread(fd, &e, sizeof(e), 0) != (ssize_t)sizeof(e) || memcmp(e.e_ident, ELFMAG, SELFMAG) != 0 ||
        e.e_ident[EI_CLASS] != NATIVE_CLASS || e.e_ident[EI_DATA] != NATIVE_DATA ||
        (e.e_type != ET_EXEC && e.e_type != ET_DYN) || e.e_phentsize != sizeof(Phdr) ||
        e.e_phnum == 0) {
        close(fd);
        return kind;
    }
    Phdr *ph = read_at(fd, (off_t)e.e_phoff, (size_t)e.e_phnum * sizeof(Phdr));
    int interp = 0, dynamic = 0, soname = 0, go = 0;
    for (size_t i = 0; ph && i < e.e_phnum; i++) {
        interp |= ph[i].p_type == PT_INTERP;
        if (ph[i].p_type == PT_DYNAMIC && !dynamic) {
            char *dyn = read_at(fd, (off_t)ph[i].p_offset, (size_t)ph[i].p_filesz);
            dynamic = 1;
            soname = dyn && has_soname(dyn, (size_t)ph[i].p_filesz);
            free(dyn);
        }
        if (ph[i].p_type == PT_NOTE && !go) {
            char *notes = read_at(fd, (off_t)ph[i].p_offset, (size_t)ph[i].p_filesz);
            go = notes && go_note(notes, (size_t)ph[i].p_filesz);
            free(notes);
        }
    }
    if (ph) {
        /* No loader starts a program without PT_INTERP, but for the
         * loader itself (ld.so PROGRAM), which has a DT_SONAME. */
        kind = go || go_section(fd, &e)           ? AMP_EXE_GO
               : !interp && (!dynamic || !soname) ? AMP_EXE_STATIC
                                                  : AMP_EXE_DYNAMIC;
    }
    free(ph);
    close(fd);
    return kind;
}
