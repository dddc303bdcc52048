/* Looking a symbol up in the dynamic symbol table of an object already
 * loaded, as ld.so would, without asking ld.so: once we export dlsym and
 * dlvsym every call to them reaches us, and glibc 2.34+ no longer exports
 * __libc_dlsym or _dl_sym, so libc's own table is the only way left to its
 * real dlsym (the approach of MangoHud's elfhacks). Native ELF class only. */
#define _GNU_SOURCE
#include "elfsym.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAX_CHAIN 65536 /* symbols one GNU hash chain may visit: a corrupt one ends */

struct obj {
    ElfW(Addr) at;                /* the address given */
    ElfW(Addr) base;              /* load bias (dlpi_addr) */
    const ElfW(Phdr) *phdr;       /* its program headers, to check reads */
    int phnum;
    const ElfW(Dyn) *dyn;
    size_t ndyn;
};

/* The object loaded at bias base with these program headers: its
 * dynamic section. */
static int with_phdrs(struct obj *o, ElfW(Addr) base, const ElfW(Phdr) *phdr, int phnum)
{
    o->base = base;
    o->phdr = phdr;
    o->phnum = phdr ? phnum : 0;
    o->dyn = NULL;
    for (int i = 0; i < o->phnum; i++)
        if (phdr[i].p_type == PT_DYNAMIC) {
            o->dyn = (const ElfW(Dyn) *)(base + phdr[i].p_vaddr);
            o->ndyn = phdr[i].p_memsz / sizeof(ElfW(Dyn));
        }
    return o->dyn != NULL;
}

/* The object of link map lm: its load bias and dynamic section from the
 * map, its program headers from the ELF header mapped at its base (a
 * shared object's first segment starts at offset 0). */
static int from_link_map(struct obj *o, const struct link_map *lm, const void *base)
{
    const ElfW(Ehdr) *eh = base;

    if (!lm || !eh || eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
        eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3 ||
        eh->e_phentsize != sizeof(ElfW(Phdr)))
        return 0;
    return with_phdrs(o, lm->l_addr, (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff),
                      eh->e_phnum);
}

/* The object holding o->at, from dladdr1. Not dl_iterate_phdr: a
 * sanitizer's runtime binds its interceptors through our dlsym, before its
 * own dl_iterate_phdr interceptor can be called. */
static int find_object(struct obj *o)
{
    Dl_info info;
    struct link_map *lm = NULL;

    return dladdr1((const void *)o->at, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm &&
           from_link_map(o, lm, info.dli_fbase);
}

/* Do len bytes at p lie inside one readable PT_LOAD of the object? Tables
 * are only read where this says yes, so a corrupt offset cannot fault. */
static int readable(const struct obj *o, ElfW(Addr) p, size_t len)
{
    for (int i = 0; i < o->phnum; i++) {
        const ElfW(Phdr) *ph = &o->phdr[i];
        ElfW(Addr) off = p - (o->base + ph->p_vaddr);
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_R) && off < ph->p_memsz &&
            len <= ph->p_memsz - off)
            return 1;
    }
    return 0;
}

/* A d_ptr as it is in memory. glibc adds the load bias to the entries it
 * uses (DT_SYMTAB, DT_STRTAB, DT_HASH, DT_GNU_HASH, DT_VERSYM...) in place,
 * but only when the dynamic section is writable (dl_relocate_ld in glibc):
 * not for the vDSO, nor an object whose PT_DYNAMIC is read-only, nor any
 * object on MIPS or RISC-V. An unrelocated value is a link-time address,
 * below the bias the object was loaded at; a relocated one is at least the
 * bias. (With a bias of 0, a non-PIE executable, both are the same.) */
static ElfW(Addr) dyn_ptr(const struct obj *o, ElfW(Addr) p)
{
    return p < o->base ? p + o->base : p;
}

/* The tables, as addresses: indexes from them are computed as integers and
 * checked with readable() before anything is read. */
struct tables {
    ElfW(Addr) sym, str, versym; /* versym 0 when the object has no versions */
    size_t strsz;
};

/* name equals the string at s, of at most max bytes (no libc call: see header). */
static int same_name(const char *s, const char *name, size_t max)
{
    size_t i = 0;

    for (; i < max && s[i] == name[i]; i++)
        if (!name[i])
            return 1;
    return 0;
}

/* Symbol i, if it is a definition of name we can return: into *best (a
 * hidden version only while nothing better is there). 1 when it is the
 * default (or only) version, so the search can stop. */
static int consider(const struct obj *o, const struct tables *t, uint32_t i, const char *name,
                    const ElfW(Sym) **best)
{
    const ElfW(Sym) *s = (const ElfW(Sym) *)(t->sym + (ElfW(Addr))i * sizeof(*s));
    const ElfW(Half) *ver = (const ElfW(Half) *)(t->versym + (ElfW(Addr))i * sizeof(*ver));
    int type, bind;

    if (!readable(o, (ElfW(Addr))s, sizeof(*s)))
        return 0;
    type = ELF32_ST_TYPE(s->st_info); /* the same for ELF64 */
    bind = ELF32_ST_BIND(s->st_info);
    if (s->st_shndx == SHN_UNDEF || s->st_value == 0 || s->st_name >= t->strsz ||
        (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT) ||
        (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) ||
        !same_name((const char *)t->str + s->st_name, name, t->strsz - s->st_name))
        return 0;
    /* VERSYM_HIDDEN (0x8000): name@VER, an old version; name@@VER has it clear */
    if (t->versym && readable(o, (ElfW(Addr))ver, sizeof(*ver)) && (*ver & 0x8000)) {
        if (!*best)
            *best = s;
        return 0;
    }
    *best = s;
    return 1;
}

static uint32_t gnu_hash(const char *s)
{
    uint32_t h = 5381;

    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

static uint32_t sysv_hash(const char *s)
{
    uint32_t h = 0, g;

    while (*s) {
        h = (h << 4) + (unsigned char)*s++;
        g = h & 0xf0000000;
        h = (h ^ (g >> 24)) & ~g;
    }
    return h;
}

/* DT_GNU_HASH: nbuckets, symoffset, bloom size, bloom shift, the bloom
 * words, the buckets, then one hash per symbol from symoffset on, the low
 * bit marking a chain's end. The bloom filter only saves time on misses:
 * skipped. Undefined symbols are never in this table. */
static const ElfW(Sym) *gnu_lookup(const struct obj *o, const struct tables *t, ElfW(Addr) tab,
                                   const char *name)
{
    const uint32_t *h = (const uint32_t *)tab;
    const ElfW(Sym) *best = NULL;
    ElfW(Addr) buckets, chain;
    uint32_t hash = gnu_hash(name), i;

    if (!readable(o, tab, 4 * sizeof(uint32_t)) || h[0] == 0)
        return NULL;
    buckets = tab + 4 * sizeof(uint32_t) + (ElfW(Addr))h[2] * sizeof(ElfW(Addr));
    if (!readable(o, buckets, (size_t)h[0] * sizeof(uint32_t)))
        return NULL;
    chain = buckets + (ElfW(Addr))h[0] * sizeof(uint32_t);
    i = ((const uint32_t *)buckets)[hash % h[0]];
    for (uint32_t n = 0; i >= h[1] && n < MAX_CHAIN; n++, i++) {
        const uint32_t *c = (const uint32_t *)(chain + (ElfW(Addr))(i - h[1]) * sizeof(*c));
        if (!readable(o, (ElfW(Addr))c, sizeof(*c)) ||
            ((*c | 1) == (hash | 1) && consider(o, t, i, name, &best)) || (*c & 1))
            break;
    }
    return best;
}

/* DT_HASH: nbucket, nchain, the buckets, then the chain (one next index per
 * symbol, so nchain is also the number of symbols: no chain is longer). */
static const ElfW(Sym) *sysv_lookup(const struct obj *o, const struct tables *t, ElfW(Addr) tab,
                                    const char *name)
{
    const uint32_t *h = (const uint32_t *)tab;
    const ElfW(Sym) *best = NULL;

    if (!readable(o, tab, 2 * sizeof(uint32_t)) || h[0] == 0 ||
        !readable(o, tab, (2 + (size_t)h[0] + h[1]) * sizeof(uint32_t)))
        return NULL;
    uint32_t i = h[2 + sysv_hash(name) % h[0]];
    for (uint32_t n = 0; i != STN_UNDEF && i < h[1] && n < h[1]; n++, i = h[2 + h[0] + i])
        if (consider(o, t, i, name, &best))
            break;
    return best;
}

/* name in the object o describes. */
static void *lookup(const struct obj *o, const char *name)
{
    struct tables t = { 0 };
    ElfW(Addr) gnu = 0, sysv = 0, syment = sizeof(ElfW(Sym));
    const ElfW(Sym) *s;

    if (!readable(o, (ElfW(Addr))o->dyn, o->ndyn * sizeof(ElfW(Dyn))))
        return NULL;
    for (size_t i = 0; i < o->ndyn && o->dyn[i].d_tag != DT_NULL; i++) {
        ElfW(Addr) v = o->dyn[i].d_un.d_ptr;
        switch (o->dyn[i].d_tag) {
        case DT_SYMTAB: t.sym = dyn_ptr(o, v); break;
        case DT_STRTAB: t.str = dyn_ptr(o, v); break;
        case DT_STRSZ: t.strsz = o->dyn[i].d_un.d_val; break;
        case DT_SYMENT: syment = o->dyn[i].d_un.d_val; break;
        case DT_VERSYM: t.versym = dyn_ptr(o, v); break;
        case DT_GNU_HASH: gnu = dyn_ptr(o, v); break;
        case DT_HASH: sysv = dyn_ptr(o, v); break;
        }
    }
    if (!t.sym || !t.str || syment != sizeof(ElfW(Sym)) || !readable(o, t.str, t.strsz))
        return NULL;
    s = gnu ? gnu_lookup(o, &t, gnu, name) : sysv ? sysv_lookup(o, &t, sysv, name) : NULL;
    /* An IFUNC's value is its resolver, not the function: calling the
     * resolver is ld.so's business, so we give nothing rather than that. */
    if (!s || ELF32_ST_TYPE(s->st_info) == STT_GNU_IFUNC)
        return NULL;
    return (void *)((s->st_shndx == SHN_ABS ? 0 : o->base) + s->st_value);
}

void *amp_elf_symbol(const void *inside, const char *name)
{
    struct obj o = { .at = (ElfW(Addr))inside };

    if (!inside || !name || !find_object(&o))
        return NULL;
    return lookup(&o, name);
}

void *amp_elf_symbol_in(const char *soname_prefix, const char *name)
{
    /* The loader's own list of what is loaded (the debuggers' interface):
     * neither dladdr nor any other function a preload might define. */
    for (const struct link_map *lm = _r_debug.r_map; lm && name; lm = lm->l_next) {
        const char *base = strrchr(lm->l_name, '/');
        struct obj o = { 0 };
        base = base ? base + 1 : lm->l_name;
        if (strncmp(base, soname_prefix, strlen(soname_prefix)) == 0 &&
            from_link_map(&o, lm, (const void *)lm->l_addr))
            return lookup(&o, name);
    }
    return NULL;
}

void *amp_elf_symbol_at(const struct dl_phdr_info *info, const char *name)
{
    struct obj o = { 0 };

    return info && name && with_phdrs(&o, info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum)
               ? lookup(&o, name)
               : NULL;
}
