/* Key confinement as a rule: every option the linked libcurl has
 * (curl_easy_option_next) is classed here, once, by what it could do to a
 * routed request, and the ones that could send it elsewhere are among
 * those set aside. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <curl/curl.h>

/* What an option can do to a routed request, our key in it. The rule: an
 * option that can change where the connection goes, or who reads the
 * request, is set aside while a routed transfer runs (options.c), unless
 * the proxy's certificate (always checked: SSL_VERIFYPEER and VERIFYHOST
 * are forced) already makes sure that only the proxy can read it. */
enum confine_class {
    OPT_UNKNOWN = 0,
    OPT_ASIDE,     /* set aside (or forced) while a routed transfer runs: options.c */
    OPT_VERIFIED,  /* may change the path, not who reads: the proxy's certificate is checked */
    OPT_CONTENT,   /* what the request says, not where it goes */
    OPT_LOCAL,     /* callbacks, limits, what the application sees of the answer */
    OPT_OTHER,     /* protocols other than HTTP(S), never a routed URL's */
};

struct class_of {
    enum confine_class cls;
    const char *const *names;
};

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct class_of classes[] = {
    /* Where the connection goes, or what is trusted on the way: set aside
     * or forced. URL, CURLU, HTTPHEADER: ours. RESOLVE: the application's
     * entries but those for the proxy's host (amp_confine_resolve). PORT, CONNECT_TO,
     * UNIX_SOCKET_PATH, ABSTRACT_UNIX_SOCKET, DOH_URL, OPENSOCKETFUNCTION,
     * SOCKOPTFUNCTION: another address, socket or resolver. SSL_VERIFYPEER,
     * SSL_VERIFYHOST: forced on; SSL_CTX_FUNCTION could turn them off.
     * HEADEROPT: our headers never in a CONNECT. NOPROXY: "*" for a
     * plain-http proxy. PINNEDPUBLICKEY: the provider's pin, not the
     * proxy's. HAPROXYPROTOCOL: a line for the provider's load balancer,
     * a broken request to the proxy. */
    { OPT_ASIDE,
      NAMES("URL", "CURLU", "HTTPHEADER", "PORT", "CONNECT_TO", "RESOLVE", "UNIX_SOCKET_PATH",
            "ABSTRACT_UNIX_SOCKET", "DOH_URL", "OPENSOCKETFUNCTION", "OPENSOCKETDATA",
            "SOCKOPTFUNCTION", "SOCKOPTDATA", "SSL_VERIFYPEER", "SSL_VERIFYHOST",
            "SSL_CTX_FUNCTION", "SSL_CTX_DATA", "HEADEROPT", "NOPROXY", "PINNEDPUBLICKEY",
            "HAPROXYPROTOCOL") },
    /* They may choose the route, the address or the TLS details, never who
     * can read: the TLS session is with a host whose certificate names the
     * proxy. The application's HTTP proxy (and pre-proxy, and the proxy
     * variables) carries it only as a CONNECT tunnel; a plain-http proxy
     * URL (loopback only) gets NOPROXY "*" and a loopback-only socket. The
     * trust anchors (CAINFO, CAPATH) are the system's or the application's
     * choice, a corporate inspection CA among them, and are kept. */
    { OPT_VERIFIED,
      NAMES("PROXY", "PROXYPORT", "PROXYTYPE", "PRE_PROXY", "HTTPPROXYTUNNEL", "PROXYHEADER",
            "SUPPRESS_CONNECT_HEADERS", "PROXYAUTH", "PROXYUSERNAME", "PROXYPASSWORD",
            "PROXYUSERPWD", "PROXY_CAINFO", "PROXY_CAINFO_BLOB", "PROXY_CAPATH", "PROXY_CRLFILE",
            "PROXY_ISSUERCERT", "PROXY_ISSUERCERT_BLOB", "PROXY_KEYPASSWD", "PROXY_PINNEDPUBLICKEY",
            "PROXY_SERVICE_NAME", "PROXY_SSLCERT", "PROXY_SSLCERTTYPE", "PROXY_SSLCERT_BLOB",
            "PROXY_SSLKEY", "PROXY_SSLKEYTYPE", "PROXY_SSLKEY_BLOB", "PROXY_SSLVERSION",
            "PROXY_SSL_CIPHER_LIST", "PROXY_SSL_OPTIONS", "PROXY_SSL_VERIFYHOST",
            "PROXY_SSL_VERIFYPEER", "PROXY_TLS13_CIPHERS", "PROXY_TLSAUTH_PASSWORD",
            "PROXY_TLSAUTH_TYPE", "PROXY_TLSAUTH_USERNAME", "PROXY_TRANSFER_MODE", "SOCKS5_AUTH",
            "SOCKS5_GSSAPI_NEC", "SOCKS5_GSSAPI_SERVICE", "DNS_SERVERS",
            "DNS_INTERFACE", "DNS_LOCAL_IP4", "DNS_LOCAL_IP6", "DNS_SHUFFLE_ADDRESSES",
            "DNS_CACHE_TIMEOUT", "DNS_USE_GLOBAL_CACHE", "DOH_SSL_VERIFYHOST", "DOH_SSL_VERIFYPEER",
            "DOH_SSL_VERIFYSTATUS", "IPRESOLVE", "INTERFACE", "LOCALPORT", "LOCALPORTRANGE",
            "ADDRESS_SCOPE", "HAPPY_EYEBALLS_TIMEOUT_MS", "TCP_FASTOPEN", "TCP_NODELAY",
            "TCP_KEEPALIVE", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "ALTSVC", "ALTSVC_CTRL", "HSTS",
            "HSTS_CTRL", "HSTSREADFUNCTION", "HSTSREADDATA", "HSTSWRITEFUNCTION", "HSTSWRITEDATA",
            "SHARE", "FRESH_CONNECT", "FORBID_REUSE", "MAXCONNECTS", "MAXAGE_CONN",
            "MAXLIFETIME_CONN", "CONNECT_ONLY", "CAINFO", "CAINFO_BLOB", "CAPATH",
            "CA_CACHE_TIMEOUT", "CRLFILE", "ISSUERCERT", "ISSUERCERT_BLOB", "SSL_OPTIONS",
            "SSLVERSION", "SSL_CIPHER_LIST", "TLS13_CIPHERS", "SSL_EC_CURVES", "SSL_ENABLE_ALPN",
            "SSL_ENABLE_NPN", "SSL_FALSESTART", "SSL_SESSIONID_CACHE", "SSL_VERIFYSTATUS",
            "SSLENGINE", "SSLENGINE_DEFAULT", "RANDOM_FILE", "EGDSOCKET", "SSLCERT", "SSLCERTTYPE",
            "SSLCERT_BLOB", "SSLKEY", "SSLKEYTYPE", "SSLKEY_BLOB", "KEYPASSWD", "TLSAUTH_PASSWORD",
            "TLSAUTH_TYPE", "TLSAUTH_USERNAME", "CERTINFO") },
    /* What the request says (to the proxy, which passes it on), and how
     * libcurl speaks HTTP: never where it goes. Credentials of the
     * application's own go with it unless drop_headers says otherwise. */
    { OPT_CONTENT,
      NAMES("CUSTOMREQUEST", "POST", "POSTFIELDS", "POSTFIELDSIZE", "POSTFIELDSIZE_LARGE",
            "COPYPOSTFIELDS", "HTTPPOST", "MIMEPOST", "MIME_OPTIONS", "HTTPGET", "NOBODY", "UPLOAD",
            "PUT", "INFILESIZE", "INFILESIZE_LARGE", "READFUNCTION", "READDATA", "SEEKFUNCTION",
            "SEEKDATA", "IOCTLFUNCTION", "IOCTLDATA", "TRAILERFUNCTION", "TRAILERDATA", "HTTPAUTH",
            "USERPWD", "USERNAME", "PASSWORD", "XOAUTH2_BEARER", "AWS_SIGV4", "LOGIN_OPTIONS",
            "SASL_AUTHZID", "SASL_IR", "NETRC", "NETRC_FILE", "UNRESTRICTED_AUTH",
            "DISALLOW_USERNAME_IN_URL", "SERVICE_NAME", "GSSAPI_DELEGATION", "COOKIE", "COOKIEFILE",
            "COOKIEJAR", "COOKIELIST", "COOKIESESSION", "REFERER", "AUTOREFERER", "USERAGENT",
            "ACCEPT_ENCODING", "TRANSFER_ENCODING", "RANGE", "RESUME_FROM", "RESUME_FROM_LARGE",
            "TIMECONDITION", "TIMEVALUE", "TIMEVALUE_LARGE", "HTTP_VERSION", "HTTP09_ALLOWED",
            "HTTP200ALIASES", "REQUEST_TARGET", "EXPECT_100_TIMEOUT_MS", "STREAM_DEPENDS",
            "STREAM_DEPENDS_E", "STREAM_WEIGHT", "PIPEWAIT", "PATH_AS_IS", "CRLF", "TRANSFERTEXT",
            "DEFAULT_PROTOCOL", "PROTOCOLS", "PROTOCOLS_STR", "REDIR_PROTOCOLS",
            "REDIR_PROTOCOLS_STR", "FOLLOWLOCATION", "MAXREDIRS", "POSTREDIR", "WS_OPTIONS") },
    /* In this process only: callbacks (ours chained in front where they
     * matter: redirects, verbose output masked), limits, what the
     * application is shown of the answer. */
    { OPT_LOCAL,
      NAMES("WRITEFUNCTION", "WRITEDATA", "HEADERFUNCTION", "HEADERDATA", "HEADER",
            "DEBUGFUNCTION", "DEBUGDATA", "VERBOSE", "STDERR", "ERRORBUFFER", "PROGRESSFUNCTION",
            "XFERINFOFUNCTION", "XFERINFODATA", "NOPROGRESS", "PREREQFUNCTION", "PREREQDATA",
            "RESOLVER_START_FUNCTION", "RESOLVER_START_DATA", "CLOSESOCKETFUNCTION",
            "CLOSESOCKETDATA", "CHUNK_BGN_FUNCTION", "CHUNK_END_FUNCTION", "CHUNK_DATA",
            "FNMATCH_FUNCTION", "FNMATCH_DATA", "INTERLEAVEFUNCTION", "INTERLEAVEDATA",
            "CONV_FROM_NETWORK_FUNCTION", "CONV_TO_NETWORK_FUNCTION", "CONV_FROM_UTF8_FUNCTION",
            "PRIVATE", "NOSIGNAL", "QUICK_EXIT", "FAILONERROR", "KEEP_SENDING_ON_ERROR",
            "IGNORE_CONTENT_LENGTH", "HTTP_CONTENT_DECODING", "HTTP_TRANSFER_DECODING", "FILETIME",
            "TIMEOUT", "TIMEOUT_MS", "CONNECTTIMEOUT", "CONNECTTIMEOUT_MS", "LOW_SPEED_LIMIT",
            "LOW_SPEED_TIME", "MAX_RECV_SPEED_LARGE", "MAX_SEND_SPEED_LARGE", "MAXFILESIZE",
            "MAXFILESIZE_LARGE", "BUFFERSIZE", "UPLOAD_BUFFERSIZE", "ACCEPTTIMEOUT_MS",
            "SERVER_RESPONSE_TIMEOUT", "UPKEEP_INTERVAL_MS") },
    /* Other protocols' settings: a routed URL is HTTP(S). */
    { OPT_OTHER,
      NAMES("FTPPORT", "FTPSSLAUTH", "FTP_ACCOUNT", "FTP_ALTERNATIVE_TO_USER",
            "FTP_CREATE_MISSING_DIRS", "FTP_FILEMETHOD", "FTP_SKIP_PASV_IP", "FTP_SSL_CCC",
            "FTP_USE_EPRT", "FTP_USE_EPSV", "FTP_USE_PRET", "DIRLISTONLY", "APPEND", "QUOTE",
            "PREQUOTE", "POSTQUOTE", "NEW_DIRECTORY_PERMS", "NEW_FILE_PERMS", "WILDCARDMATCH",
            "KRBLEVEL", "USE_SSL", "MAIL_AUTH", "MAIL_FROM", "MAIL_RCPT", "MAIL_RCPT_ALLLOWFAILS",
            "RTSP_CLIENT_CSEQ", "RTSP_REQUEST", "RTSP_SERVER_CSEQ", "RTSP_SESSION_ID",
            "RTSP_STREAM_URI", "RTSP_TRANSPORT", "SSH_AUTH_TYPES", "SSH_COMPRESSION",
            "SSH_HOSTKEYDATA", "SSH_HOSTKEYFUNCTION", "SSH_HOST_PUBLIC_KEY_MD5",
            "SSH_HOST_PUBLIC_KEY_SHA256", "SSH_KEYDATA", "SSH_KEYFUNCTION", "SSH_KNOWNHOSTS",
            "SSH_PRIVATE_KEYFILE", "SSH_PUBLIC_KEYFILE", "TFTP_BLKSIZE", "TFTP_NO_OPTIONS",
            "TELNETOPTIONS") },
};

/* The class of the option libcurl names name (without "CURLOPT_"). */
static enum confine_class class_of(const char *name)
{
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        for (const char *const *n = classes[i].names; *n; n++)
            if (strcmp(*n, name) == 0)
                return classes[i].cls;
    return OPT_UNKNOWN;
}

/* How many classes name it (1, for a sound table). */
static int classes_naming(const char *name)
{
    int n = 0;

    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        for (const char *const *c = classes[i].names; *c; c++)
            n += strcmp(*c, name) == 0;
    return n;
}

static void every_option_classed(void **state)
{
    (void)state;
    const struct curl_easyoption *o = NULL;
    int n = 0, unknown = 0;

    while ((o = curl_easy_option_next(o))) {
        if (o->flags & CURLOT_FLAG_ALIAS)
            continue;
        n++;
        if (class_of(o->name) == OPT_UNKNOWN) {
            print_error("CURLOPT_%s (%d) is not classed in %s: review it\n", o->name, o->id,
                        __FILE__);
            unknown++;
        }
    }
    assert_true(n > 250);
    assert_int_equal(unknown, 0);
}

/* The ones the review named, and what options.c sets aside. */
static void diverting_options_set_aside(void **state)
{
    (void)state;
    static const char *const aside[] = { "URL", "CURLU", "PORT", "CONNECT_TO", "RESOLVE",
                                         "UNIX_SOCKET_PATH", "ABSTRACT_UNIX_SOCKET", "DOH_URL",
                                         "OPENSOCKETFUNCTION", "SOCKOPTFUNCTION",
                                         "SSL_VERIFYPEER", "SSL_VERIFYHOST", "SSL_CTX_FUNCTION",
                                         "HEADEROPT", "NOPROXY" };
    for (size_t i = 0; i < sizeof(aside) / sizeof(aside[0]); i++)
        if (class_of(aside[i]) != OPT_ASIDE)
            fail_msg("CURLOPT_%s must be set aside", aside[i]);
    assert_int_equal(class_of("PROXY"), OPT_VERIFIED);
    assert_int_equal(class_of("NO_SUCH_OPTION"), OPT_UNKNOWN);
}

/* Each name in one class only. */
static void classes_disjoint(void **state)
{
    (void)state;
    const struct curl_easyoption *o = NULL;

    while ((o = curl_easy_option_next(o)))
        if (!(o->flags & CURLOT_FLAG_ALIAS) && classes_naming(o->name) != 1)
            fail_msg("CURLOPT_%s is named by %d classes", o->name, classes_naming(o->name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_option_classed),
        cmocka_unit_test(diverting_options_set_aside),
        cmocka_unit_test(classes_disjoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
