/* The hooked libcurl functions (hooked.h) as the first stage exports them:
 * each is one indirect jump through its slot, so that it forwards any
 * signature exactly, the variadic ones included, and the function it
 * reaches sees the application's return address (the core finds the
 * caller's libcurl flavour from it). A slot holds the core's function once
 * the core is attached, and until then a stub that saves the argument
 * registers, asks stage1_resolve where to go (loading the core, or else
 * the real function), and jumps there. A few lines of assembly for each
 * architecture; C cannot make a tail call that forwards `...`. */
#define _GNU_SOURCE
#include "stage1.h"

#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>

#define NAME(ret, name, ...) "curl_" #name,
#define NAME_VOID(name, ...) "curl_" #name,
const char *const amp_stage1_names[AMP_NHOOKED] = { AMP_HOOKED(NAME, NAME_VOID, NAME, NAME) };

typedef void *dlopen_fn(const char *, int);
typedef void *dlsym_fn(void *, const char *);
typedef int dlclose_fn(void *);

/* In no libcurl at all, which cannot happen to a program calling a curl
 * function by name: a failure, not a crash. */
static long absent(void)
{
    return 0;
}

/* 1 when p is in the first stage. */
static int ours(const void *p)
{
    extern const char __ehdr_start[] __attribute__((visibility("hidden")));
    Dl_info info;

    return dladdr(p, &info) && info.dli_fbase == (void *)__ehdr_start;
}

/* Without the core: the function called name in the libcurl the caller
 * binds to, looked up at every call (the core could not be loaded, so this
 * process runs as without ampshim; pycurl's libcurl is RTLD_LOCAL, a
 * program may hold two flavours): the caller's own scope first, then what
 * follows the first stage in the global one. */
static void *real_for(const char *name, const void *caller)
{
    dlopen_fn *open = (dlopen_fn *)amp_stage1_real(AMP_DLOPEN);
    dlsym_fn *sym = (dlsym_fn *)amp_stage1_real(AMP_DLSYM);
    dlclose_fn *close = (dlclose_fn *)amp_stage1_real(AMP_DLCLOSE);
    struct link_map *lm = NULL;
    Dl_info info;
    void *p = NULL;

    if (open && sym && close && dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm) {
        void *h = open(lm->l_name[0] ? lm->l_name : NULL, RTLD_LAZY | RTLD_NOLOAD);
        if (h) {
            p = sym(h, name);
            close(h);
        }
    }
    if (!p || ours(p))
        p = amp_stage1_next(name, NULL);
    return p && !ours(p) ? p : (void *)absent;
}

/* Called by the stubs below with the slot of the function called and its
 * caller's return address: where to jump. */
__attribute__((used, noinline)) static void *stage1_resolve(void **slot, const void *caller)
{
    int i = 0;

    while (i < AMP_NHOOKED - 1 && amp_stage1_slots[i] != slot)
        i++;
    if (amp_stage1_load_core())
        return atomic_load_explicit((_Atomic(void *) *)slot, memory_order_acquire);
    return real_for(amp_stage1_names[i], caller);
}

#if defined(__x86_64__)
/* The slot, the exported function, and its stub (r11: the slot). */
#define ONE(name)                                                                        \
    ".pushsection .data, \"aw\"\n.balign 8\n"                                            \
    ".Lslot_" #name ": .quad .Llazy_" #name "\n.popsection\n"                            \
    ".globl curl_" #name "\n.type curl_" #name ", %function\n"                           \
    "curl_" #name ":\n\tjmp *.Lslot_" #name "(%rip)\n"                                   \
    ".Llazy_" #name ":\n\tlea .Lslot_" #name "(%rip), %r11\n\tjmp .Lamp_lazy\n"           \
    ".size curl_" #name ", . - curl_" #name "\n"
/* The argument registers (rdi, rsi, rdx, rcx, r8, r9; al and xmm0-7 for a
 * variadic call) kept across the call to stage1_resolve; the stack kept
 * 16-byte aligned. */
#define LAZY                                                                             \
    ".Lamp_lazy:\n\tpush %rbp\n\tmov %rsp, %rbp\n"                                       \
    "\tpush %rdi\n\tpush %rsi\n\tpush %rdx\n\tpush %rcx\n\tpush %r8\n\tpush %r9\n"       \
    "\tpush %rax\n\tsub $136, %rsp\n"                                                    \
    "\tmovdqu %xmm0, 0(%rsp)\n\tmovdqu %xmm1, 16(%rsp)\n\tmovdqu %xmm2, 32(%rsp)\n"      \
    "\tmovdqu %xmm3, 48(%rsp)\n\tmovdqu %xmm4, 64(%rsp)\n\tmovdqu %xmm5, 80(%rsp)\n"     \
    "\tmovdqu %xmm6, 96(%rsp)\n\tmovdqu %xmm7, 112(%rsp)\n"                              \
    "\tmov %r11, %rdi\n\tmov 8(%rbp), %rsi\n\tcall stage1_resolve\n\tmov %rax, %r11\n"   \
    "\tmovdqu 0(%rsp), %xmm0\n\tmovdqu 16(%rsp), %xmm1\n\tmovdqu 32(%rsp), %xmm2\n"      \
    "\tmovdqu 48(%rsp), %xmm3\n\tmovdqu 64(%rsp), %xmm4\n\tmovdqu 80(%rsp), %xmm5\n"     \
    "\tmovdqu 96(%rsp), %xmm6\n\tmovdqu 112(%rsp), %xmm7\n\tadd $136, %rsp\n"            \
    "\tpop %rax\n\tpop %r9\n\tpop %r8\n\tpop %rcx\n\tpop %rdx\n\tpop %rsi\n\tpop %rdi\n"  \
    "\tpop %rbp\n\tjmp *%r11\n"
#define SLOT_ADDR ".quad"
#elif defined(__aarch64__)
/* ldar: the core's data is seen as its attach left it. hint 34 (bti c)
 * marks targets of indirect branches, a no-op where BTI is off. */
#define ONE(name)                                                                        \
    ".pushsection .data, \"aw\"\n.balign 8\n"                                            \
    ".Lslot_" #name ": .xword .Llazy_" #name "\n.popsection\n"                           \
    ".globl curl_" #name "\n.type curl_" #name ", %function\n"                           \
    "curl_" #name ":\n\thint 34\n\tadrp x16, .Lslot_" #name "\n"                         \
    "\tadd x16, x16, :lo12:.Lslot_" #name "\n\tldar x16, [x16]\n\tbr x16\n"              \
    ".Llazy_" #name ":\n\thint 34\n\tadrp x17, .Lslot_" #name "\n"                       \
    "\tadd x17, x17, :lo12:.Lslot_" #name "\n\tb .Lamp_lazy\n"                           \
    ".size curl_" #name ", . - curl_" #name "\n"
/* x0-x7, x8 (where a large result goes) and q0-q7 kept. */
#define LAZY                                                                             \
    ".Lamp_lazy:\n\tstp x29, x30, [sp, #-224]!\n\tmov x29, sp\n"                         \
    "\tstp x0, x1, [sp, #16]\n\tstp x2, x3, [sp, #32]\n\tstp x4, x5, [sp, #48]\n"        \
    "\tstp x6, x7, [sp, #64]\n\tstr x8, [sp, #80]\n"                                     \
    "\tstp q0, q1, [sp, #96]\n\tstp q2, q3, [sp, #128]\n\tstp q4, q5, [sp, #160]\n"      \
    "\tstp q6, q7, [sp, #192]\n"                                                         \
    "\tmov x0, x17\n\tmov x1, x30\n\tbl stage1_resolve\n\tmov x16, x0\n"                 \
    "\tldp x0, x1, [sp, #16]\n\tldp x2, x3, [sp, #32]\n\tldp x4, x5, [sp, #48]\n"        \
    "\tldp x6, x7, [sp, #64]\n\tldr x8, [sp, #80]\n"                                     \
    "\tldp q0, q1, [sp, #96]\n\tldp q2, q3, [sp, #128]\n\tldp q4, q5, [sp, #160]\n"      \
    "\tldp q6, q7, [sp, #192]\n"                                                         \
    "\tldp x29, x30, [sp], #224\n\tbr x16\n"
#define SLOT_ADDR ".xword"
#else
#error "the first stage's trampolines are written for x86_64 and aarch64 (stage1_hooks.c)"
#endif

#define T_RET(ret, name, ...) ONE(name)
#define T_VOID(name, ...) ONE(name)
#define ADDR(ret, name, ...) "\t" SLOT_ADDR " .Lslot_" #name "\n"
#define ADDR_VOID(name, ...) "\t" SLOT_ADDR " .Lslot_" #name "\n"

__asm__(".text\n" AMP_HOOKED(T_RET, T_VOID, T_RET, T_RET) LAZY
        /* The slots in the order of AMP_HOOKED, for C. */
        ".pushsection .data.rel.ro, \"aw\"\n.balign 8\n"
        ".globl amp_stage1_slots\n.hidden amp_stage1_slots\n"
        ".type amp_stage1_slots, %object\namp_stage1_slots:\n"
        AMP_HOOKED(ADDR, ADDR_VOID, ADDR, ADDR)
        ".size amp_stage1_slots, . - amp_stage1_slots\n.popsection\n");
