/* A config's routes as data: each route (struct amp_route) with the
 * headers it is sent with, and the set of them (struct amp_routes) with its
 * index. Apart from route.h so that the index (routeindex.h), which files
 * the routes, and the matching (route.h), which uses the index, both read
 * them without including each other. */
#ifndef AMPSHIM_ROUTES_H
#define AMPSHIM_ROUTES_H

#include <stddef.h>
#include <stdint.h>

struct amp_arena;
struct amp_origins;
struct amp_route_index;

/* A header a route is sent with: its name (one of headers.h's), its value,
 * and whether the value is a secret (the key: masked wherever it is
 * shown). line is "name: value", made once when the config is loaded;
 * value points into it. */
struct amp_header {
    const char *name;
    const char *value;
    int secret;
    const char *line;
};

struct amp_route {
    int line;                 /* where the route stands in its config file */
    char *base_url;           /* as written, or made from the provider's */
    char *provider;           /* the catalog's name, when given by name */
    char *scheme;             /* "http" or "https" */
    long port;                /* explicit or the scheme's default */
    char **labels;            /* host labels, lower case; NULL = placeholder */
    size_t nlabels;
    char **segs;              /* path prefix segments; NULL = placeholder */
    size_t nsegs;
    size_t exact_labels, exact_segs;
    char *installation_id;
    char *integration_name;
    char *group_ref;
    char *ident;              /* how messages name the route */
    uint64_t key;             /* its rate-limit identity, see state.h */
    const struct amp_header *const *headers; /* sent with it (headers.h) */
    size_t nheaders;
    char **drop;              /* application headers not forwarded (drop_headers) */
    size_t ndrop;
    /* The compile's own: the host suffix after the last placeholder, which
     * the index files the route under, and the memory of the parts when
     * they were not taken from an arena. */
    const char *index_key;
    size_t index_len;
    uint64_t index_hash;      /* amp_suffix_hash of the key */
    void *mem;
};

struct amp_routes {
    struct amp_route *v;
    size_t n;
    struct amp_route_index *index; /* host suffix -> routes, see routeindex.h */
    struct amp_origins *origins;   /* origins decided so far, see origins.h */
    /* Where v, the routes and the index live (a loaded config's, freed
     * with it); NULL: malloc, each part (r->mem), the index and v freed
     * by whoever compiled them. */
    struct amp_arena *arena;
};

#endif
