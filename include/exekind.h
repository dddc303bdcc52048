/* What kind of program the launcher is asked to run, read from its ELF
 * headers: one LD_PRELOAD cannot route is named before it runs. */
#ifndef AMPSHIM_EXEKIND_H
#define AMPSHIM_EXEKIND_H

#include <stddef.h>

enum amp_exekind {
    AMP_EXE_UNKNOWN, /* not an ELF file of ours (a script, unreadable, another ABI) */
    AMP_EXE_DYNAMIC, /* started by the dynamic loader: LD_PRELOAD applies */
    AMP_EXE_STATIC,  /* no PT_INTERP, and no PT_DYNAMIC or one without a
                        DT_SONAME (a static PIE): no loader, no preload */
    AMP_EXE_GO,      /* a Go program (a .note.go.buildid note or a .go.buildinfo
                        section), linked either way: it never calls libcurl */
};

/* The file execvp would run for cmd (cmd itself when it holds a '/'), into
 * buf. 0, or -1 when there is none. */
int amp_exekind_find(const char *cmd, char *buf, size_t len);

/* The kind of the program at path; never fails (AMP_EXE_UNKNOWN). */
enum amp_exekind amp_exekind_of(const char *path);

#endif
