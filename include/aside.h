/* Work done on a short-lived thread of our own, while the caller waits:
 * glibc gives a new thread a malloc arena of its own, so whatever the work
 * allocates and frees (libconfig's parse tree, file buffers, scratch)
 * stays out of the heap the application's threads allocate from. */
#ifndef AMPSHIM_ASIDE_H
#define AMPSHIM_ASIDE_H

/* fn(arg) on a new thread, every signal blocked there, and back when it
 * has returned: 0. -1 when no thread could be made (fn has not run: the
 * caller runs it itself). */
int amp_aside_run(void (*fn)(void *), void *arg);

#endif
