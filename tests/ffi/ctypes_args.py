"""The command line both ctypes programs take: [--lib SONAME] [--post] URL..."""
import sys


def parse(argv=None):
    """(soname, post, urls)."""
    args = list(sys.argv[1:] if argv is None else argv)
    lib, post = "libcurl.so.4", False
    while args and args[0].startswith("--"):
        a = args.pop(0)
        if a == "--lib":
            lib = args.pop(0)
        elif a == "--post":
            post = True
        else:
            sys.exit("unknown option " + a)
    return lib, post, args
