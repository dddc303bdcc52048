/* What the application set, and putting ours on a handle and back. */
#define _GNU_SOURCE
#include "options.h"

#include <string.h>

#include "confine.h"
#include "ratelimit.h"
#include "redirect.h"
#include "respond.h"
#include "trace.h"

int amp_option_tracked(CURLoption option)
{
    switch (option) {
    case CURLOPT_URL:
    case CURLOPT_CURLU:
    case CURLOPT_HTTPHEADER:
    case CURLOPT_ERRORBUFFER:
    case CURLOPT_FOLLOWLOCATION:
    case CURLOPT_PORT:
    case CURLOPT_CONNECT_TO:
    case CURLOPT_HEADEROPT:
    case CURLOPT_NOPROXY:
    case CURLOPT_PREREQFUNCTION:
    case CURLOPT_PREREQDATA:
    case CURLOPT_RESOLVER_START_FUNCTION:
    case CURLOPT_RESOLVER_START_DATA:
    case CURLOPT_HEADERFUNCTION:
    case CURLOPT_HEADERDATA:
    case CURLOPT_WRITEFUNCTION:
    case CURLOPT_VERBOSE:
    case CURLOPT_DEBUGFUNCTION:
    case CURLOPT_DEBUGDATA:
    case CURLOPT_STDERR:
    case CURLOPT_SSL_VERIFYPEER:
    case CURLOPT_SSL_VERIFYHOST:
    case CURLOPT_POST:
    case CURLOPT_POSTFIELDS:
    case CURLOPT_COPYPOSTFIELDS:
    case CURLOPT_HTTPPOST:
    case CURLOPT_MIMEPOST:
    case CURLOPT_UPLOAD:
    case CURLOPT_CUSTOMREQUEST:
    case CURLOPT_HTTPGET:
    case CURLOPT_OPENSOCKETFUNCTION:
    case CURLOPT_SOCKOPTFUNCTION:
    case CURLOPT_CLOSESOCKETFUNCTION:
    case CURLOPT_UNIX_SOCKET_PATH:
    case CURLOPT_ABSTRACT_UNIX_SOCKET:
    case CURLOPT_FRESH_CONNECT:
    case CURLOPT_FORBID_REUSE:
    case CURLOPT_HTTP_VERSION:
    case CURLOPT_IPRESOLVE:
    case CURLOPT_INTERFACE:
    case CURLOPT_LOCALPORT:
    case CURLOPT_LOCALPORTRANGE:
    case CURLOPT_PROTOCOLS:
    case CURLOPT_PROTOCOLS_STR:
    case CURLOPT_OPENSOCKETDATA:
    case CURLOPT_CLOSESOCKETDATA:
    case CURLOPT_CONNECT_ONLY:
    case CURLOPT_RESOLVE:
    case CURLOPT_DOH_URL:
    case CURLOPT_SSL_CTX_FUNCTION:
    case CURLOPT_PINNEDPUBLICKEY:
        return 1;
    default:
        return 0;
    }
}

int amp_option_note(struct amp_handle *hs, CURLoption option, long l, void *p, void (*fn)(void))
{
    struct amp_app_options *app = &hs->app;

    switch (option) {
    case CURLOPT_URL:
        return amp_handle_set_url(hs, p);
    case CURLOPT_NOPROXY:
        return amp_handle_set_noproxy(hs, p);
    case CURLOPT_CURLU:
        app->curlu = p;
        break;
    case CURLOPT_HTTPHEADER:
        app->headers = p;
        hs->headers_dirty = 1; /* even the same pointer may hold a new list */
        break;
    case CURLOPT_ERRORBUFFER:
        app->errbuf = p;
        break;
    case CURLOPT_FOLLOWLOCATION:
        app->follow = l;
        break;
    case CURLOPT_PORT:
        app->port = l;
        break;
    case CURLOPT_CONNECT_TO:
        app->connect_to = p;
        break;
    case CURLOPT_HEADEROPT:
        app->headeropt = l;
        break;
    case CURLOPT_PREREQFUNCTION:
        app->prereq_fn = (curl_prereq_callback)fn;
        break;
    case CURLOPT_PREREQDATA:
        app->prereq_data = p;
        break;
    case CURLOPT_RESOLVER_START_FUNCTION:
        app->resolver_fn = (curl_resolver_start_callback)fn;
        break;
    case CURLOPT_RESOLVER_START_DATA:
        app->resolver_data = p;
        break;
    case CURLOPT_HEADERFUNCTION:
        app->header_fn = (curl_write_callback)fn;
        break;
    case CURLOPT_HEADERDATA:
        app->header_data = p;
        break;
    case CURLOPT_WRITEFUNCTION:
        app->write_fn = (curl_write_callback)fn;
        break;
    case CURLOPT_VERBOSE:
        app->verbose = l;
        break;
    case CURLOPT_DEBUGFUNCTION:
        app->debug_fn = (curl_debug_callback)fn;
        break;
    case CURLOPT_DEBUGDATA:
        app->debug_data = p;
        break;
    case CURLOPT_STDERR:
        app->err = p;
        break;
    case CURLOPT_SSL_VERIFYPEER:
        app->verify_peer = l;
        break;
    case CURLOPT_SSL_VERIFYHOST:
        app->verify_host = l;
        break;
    /* What a redirect may be sent again as (transfer.c): libcurl's own
     * rules for these options, in the order they are set. */
    case CURLOPT_POST:
    case CURLOPT_UPLOAD:
        app->posts = l != 0;
        break;
    case CURLOPT_POSTFIELDS:
    case CURLOPT_COPYPOSTFIELDS:
    case CURLOPT_HTTPPOST:
    case CURLOPT_MIMEPOST:
        app->posts = 1; /* libcurl posts, whatever the value */
        break;
    case CURLOPT_CUSTOMREQUEST:
        app->custom_unsafe = p && strcmp(p, "GET") != 0 && strcmp(p, "HEAD") != 0;
        break;
    case CURLOPT_HTTPGET:
        if (l)
            app->posts = 0;
        break;
    case CURLOPT_OPENSOCKETFUNCTION:
        app->open_fn = (curl_opensocket_callback)fn;
        break;
    case CURLOPT_OPENSOCKETDATA:
        app->open_data = p;
        break;
    case CURLOPT_CONNECT_ONLY:
        app->connect_only = l;
        break;
    case CURLOPT_CLOSESOCKETDATA:
        app->close_data = p;
        break;
    case CURLOPT_RESOLVE:
        app->resolve = p;
        break;
    case CURLOPT_DOH_URL:
        return amp_handle_set_string(&app->doh_url, p);
    case CURLOPT_SSL_CTX_FUNCTION:
        app->ssl_ctx_fn = (curl_ssl_ctx_callback)fn;
        break;
    case CURLOPT_PINNEDPUBLICKEY:
        return amp_handle_set_string(&app->pinned, p);
    case CURLOPT_SOCKOPTFUNCTION:
        app->sockopt_fn = (curl_sockopt_callback)fn;
        break;
    case CURLOPT_CLOSESOCKETFUNCTION:
        app->close_fn = (curl_closesocket_callback)fn;
        break;
    case CURLOPT_UNIX_SOCKET_PATH:
    case CURLOPT_ABSTRACT_UNIX_SOCKET:
        return amp_handle_set_unix_socket(hs, p, option == CURLOPT_ABSTRACT_UNIX_SOCKET);
    case CURLOPT_PROTOCOLS:
        return amp_handle_set_protocols(hs, l, NULL);
    case CURLOPT_PROTOCOLS_STR:
        return amp_handle_set_protocols(hs, 0, p);
    case CURLOPT_FRESH_CONNECT:
        app->fresh_connect = l;
        break;
    case CURLOPT_FORBID_REUSE:
        app->forbid_reuse = l;
        break;
    case CURLOPT_HTTP_VERSION:
        app->http_version = l;
        break;
    case CURLOPT_IPRESOLVE:
        app->ipresolve = l;
        break;
    case CURLOPT_INTERFACE:
        return amp_handle_set_string(&app->interface, p);
    case CURLOPT_LOCALPORT:
        app->localport = l;
        break;
    case CURLOPT_LOCALPORTRANGE:
        app->localportrange = l;
        break;
    default:
        break;
    }
    return 0;
}

int amp_options_apply(struct amp_handle *hs, const struct amp_config *cfg, const char *url,
                      struct curl_slist *headers, int guard)
{
    const struct amp_curl *c = hs->c;
    CURL *e = hs->easy;

    if (hs->app.curlu)
        c->easy_setopt(e, CURLOPT_CURLU, (CURLU *)NULL);
    if (c->easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
        c->easy_setopt(e, CURLOPT_HTTPHEADER, headers) != CURLE_OK)
        return -1;
    if (hs->app.port)
        c->easy_setopt(e, CURLOPT_PORT, 0L);
    if (hs->app.connect_to)
        c->easy_setopt(e, CURLOPT_CONNECT_TO, (struct curl_slist *)NULL);
    /* What else could send the connection, and the key, elsewhere (confine.c
     * says why these and not the others). */
    if (hs->app.resolve)
        c->easy_setopt(e, CURLOPT_RESOLVE, (struct curl_slist *)NULL);
    if (hs->app.unix_socket)
        c->easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, (char *)NULL);
    if (hs->app.doh_url)
        c->easy_setopt(e, CURLOPT_DOH_URL, (char *)NULL);
    if (hs->app.ssl_ctx_fn)
        c->easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, (curl_ssl_ctx_callback)NULL);
    if (hs->app.pinned)
        c->easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, (char *)NULL);
    if (hs->app.sockopt_fn)
        c->easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, (curl_sockopt_callback)NULL);
    /* Plain http (a relay on loopback) has no certificate to say where it
     * went: our own socket callback checks the address is loopback. */
    if (cfg && cfg->proxy_plain_http) {
        c->easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, amp_confine_open);
        c->easy_setopt(e, CURLOPT_OPENSOCKETDATA, (void *)hs);
        /* An https-only application still reaches a plain-http relay. */
        if (hs->app.protocols || hs->app.protocols_str)
            c->easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    } else if (hs->app.open_fn) {
        c->easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, (curl_opensocket_callback)NULL);
    }
    /* An HTTP proxy of the application's must not see our headers in a
     * CONNECT; a plain-http relay on loopback is reached directly. */
    if (hs->app.headeropt != CURLHEADER_SEPARATE)
        c->easy_setopt(e, CURLOPT_HEADEROPT, (long)CURLHEADER_SEPARATE);
    if (cfg && cfg->proxy_plain_http)
        c->easy_setopt(e, CURLOPT_NOPROXY, "*");
    /* The key goes only to a proxy whose certificate is checked, whatever
     * the application does with its own connections (curl -k). */
    if (hs->app.verify_peer != 1)
        c->easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    if (hs->app.verify_host != 2)
        c->easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (guard && !hs->guarded)
        amp_options_guard(hs);
    /* The application's verbose output would show our key: masked. */
    hs->tracing = hs->app.verbose != 0;
    if (hs->tracing) {
        c->easy_setopt(e, CURLOPT_DEBUGFUNCTION, amp_trace_debug);
        c->easy_setopt(e, CURLOPT_DEBUGDATA, (void *)hs);
    }
    if (hs->watching) {
        c->easy_setopt(e, CURLOPT_HEADERFUNCTION, amp_ratelimit_watch_header);
        c->easy_setopt(e, CURLOPT_HEADERDATA, (void *)hs);
    }
    return 0;
}

void amp_options_guard(struct amp_handle *hs)
{
    const struct amp_curl *c = hs->c;

    hs->guarded = 1;
    c->easy_setopt(hs->easy, CURLOPT_PREREQFUNCTION, amp_redirect_guard);
    c->easy_setopt(hs->easy, CURLOPT_PREREQDATA, (void *)hs);
    c->easy_setopt(hs->easy, CURLOPT_RESOLVER_START_FUNCTION, amp_redirect_resolving);
    c->easy_setopt(hs->easy, CURLOPT_RESOLVER_START_DATA, (void *)hs);
}

void amp_options_unguard(struct amp_handle *hs)
{
    const struct amp_curl *c = hs->c;

    c->easy_setopt(hs->easy, CURLOPT_PREREQFUNCTION, hs->app.prereq_fn);
    c->easy_setopt(hs->easy, CURLOPT_PREREQDATA, hs->app.prereq_data);
    c->easy_setopt(hs->easy, CURLOPT_RESOLVER_START_FUNCTION, hs->app.resolver_fn);
    c->easy_setopt(hs->easy, CURLOPT_RESOLVER_START_DATA, hs->app.resolver_data);
    hs->guarded = 0;
}

void amp_options_restore(struct amp_handle *hs, const struct amp_config *cfg)
{
    const struct amp_curl *c = hs->c;
    CURL *e = hs->easy;

    /* With a CURLU (which wins), its URL stands where libcurl would have
     * left it, for curl_easy_getinfo(CURLINFO_EFFECTIVE_URL). */
    c->easy_setopt(e, CURLOPT_URL, hs->app.url || !hs->app.curlu ? hs->app.url : hs->decided_url);
    if (hs->app.curlu)
        c->easy_setopt(e, CURLOPT_CURLU, hs->app.curlu);
    c->easy_setopt(e, CURLOPT_HTTPHEADER, hs->app.headers);
    if (hs->app.port)
        c->easy_setopt(e, CURLOPT_PORT, hs->app.port);
    if (hs->app.connect_to)
        c->easy_setopt(e, CURLOPT_CONNECT_TO, hs->app.connect_to);
    if (hs->app.resolve)
        c->easy_setopt(e, CURLOPT_RESOLVE, hs->app.resolve);
    if (hs->app.unix_socket)
        c->easy_setopt(e, hs->app.unix_abstract ? CURLOPT_ABSTRACT_UNIX_SOCKET : CURLOPT_UNIX_SOCKET_PATH,
                       hs->app.unix_socket);
    if (hs->app.doh_url)
        c->easy_setopt(e, CURLOPT_DOH_URL, hs->app.doh_url);
    if (hs->app.ssl_ctx_fn)
        c->easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, hs->app.ssl_ctx_fn);
    if (hs->app.pinned)
        c->easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, hs->app.pinned);
    if (hs->app.sockopt_fn)
        c->easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, hs->app.sockopt_fn);
    if ((cfg && cfg->proxy_plain_http) || hs->app.open_fn) {
        c->easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, hs->app.open_fn);
        c->easy_setopt(e, CURLOPT_OPENSOCKETDATA, hs->app.open_data);
    }
    if (cfg && cfg->proxy_plain_http && hs->app.protocols_str)
        c->easy_setopt(e, CURLOPT_PROTOCOLS_STR, hs->app.protocols_str);
    else if (cfg && cfg->proxy_plain_http && hs->app.protocols)
        c->easy_setopt(e, CURLOPT_PROTOCOLS, hs->app.protocols);
    if (hs->app.headeropt != CURLHEADER_SEPARATE)
        c->easy_setopt(e, CURLOPT_HEADEROPT, hs->app.headeropt);
    if (cfg && cfg->proxy_plain_http)
        c->easy_setopt(e, CURLOPT_NOPROXY, hs->app.noproxy);
    if (hs->app.verify_peer != 1)
        c->easy_setopt(e, CURLOPT_SSL_VERIFYPEER, hs->app.verify_peer);
    if (hs->app.verify_host != 2)
        c->easy_setopt(e, CURLOPT_SSL_VERIFYHOST, hs->app.verify_host);
    if (hs->guarded)
        amp_options_unguard(hs);
    if (hs->tracing) {
        c->easy_setopt(e, CURLOPT_DEBUGFUNCTION, hs->app.debug_fn);
        c->easy_setopt(e, CURLOPT_DEBUGDATA, hs->app.debug_data);
    }
    if (hs->watching) {
        c->easy_setopt(e, CURLOPT_HEADERFUNCTION, hs->app.header_fn);
        c->easy_setopt(e, CURLOPT_HEADERDATA, hs->app.header_data);
    }
    if (hs->answering)
        amp_respond_restore(hs);
}
