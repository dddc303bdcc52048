#!/usr/bin/python3
"""A copy of a shared library under another name, its SONAME renamed with
it (in place, as long as the old one): a libcurl whose file name does not
begin with "libcurl", as a program may bundle one.

    rename_soname.py LIBRARY NEW_NAME OUT

LIBRARY's file name must be its SONAME (libcurl-gnutls.so.4 is)."""

import os
import sys


def main(lib, new, out):
    data = open(lib, "rb").read()
    soname = os.path.basename(lib).encode() + b"\0"
    if len(new) != len(soname) - 1 or data.count(soname) != 1:
        sys.exit("rename_soname.py: %s: its name once in it, and a new name as long, are needed"
                 % lib)
    with open(out, "wb") as f:
        f.write(data.replace(soname, new.encode() + b"\0"))
    os.chmod(out, 0o755)


if __name__ == "__main__":
    main(*sys.argv[1:])
