"""The provider catalog as a user meets it (issue 18): `ampshim providers`
(the table and --json against providers.tsv, one provider with a route that
`ampshim check` accepts, an unknown name with a suggestion, usage errors),
the "did you mean" of a misspelt provider, setting or placeholder in a
config, `check`'s warning for a host one or two edits from a catalog host,
and the warning that a key file others can read gets from the library under
plain LD_PRELOAD as from the launcher."""

import json
import os
import re
import subprocess

from .harness import AMPSHIM, KEY, LIB, ROOT, SF, Skip, ok, preload_env, test

SHARED_TSV = os.environ.get("AMPSHIM_PROVIDERS_TSV") or os.path.join(ROOT, "..", "shared", "providers.tsv")


def catalog_rows():
    """providers.tsv's rows: (name, base_url, proxy, display_name)."""
    if not os.path.exists(SHARED_TSV):
        raise Skip("%s is missing (set AMPSHIM_PROVIDERS_TSV)" % SHARED_TSV)
    rows = []
    for line in open(SHARED_TSV, encoding="utf-8"):
        cols = line.rstrip("\n").split("\t")
        if line.startswith("#") or not line.strip() or cols[0] == "provider":
            continue
        rows.append((cols[0], cols[1], cols[2] == "true", cols[3]))
    assert len(rows) == 238, len(rows)
    return rows


def placeholders(base_url):
    return re.findall(r"\{\{\.([^}]*)\}\}", base_url)


def providers(ctx, *args):
    return subprocess.run([AMPSHIM, "providers", *args], capture_output=True, env=ctx.env(), timeout=30)


def usable(row):
    return row[2] and row[1].startswith(("https://", "http://"))


@test
def providers_table_and_json_are_the_catalog(ctx):
    rows = catalog_rows()
    p = ok(providers(ctx))
    assert p.stderr == b"", p.stderr
    lines = p.stdout.decode().splitlines()
    head = lines[0]
    assert head.split() == ["NAME", "DISPLAY", "NAME", "BASE", "URL", "PROXY", "PLACEHOLDERS"], head
    # Columns sized to content: each starts where its heading does, on every line.
    starts = [head.index(h) for h in ("DISPLAY NAME", "BASE URL", "PROXY", "PLACEHOLDERS")]
    assert starts[0] == max(len(r[0]) for r in rows) + 2, starts
    assert starts[1] - starts[0] == max(len(r[3]) for r in rows) + 2, starts
    assert len(lines) == len(rows) + 1
    for row, line in zip(rows, lines[1:]):
        cells = [line[:starts[0]], line[starts[0]:starts[1]], line[starts[1]:starts[2]],
                 line[starts[2]:starts[3]], line[starts[3]:]]
        cells = [c.strip() for c in cells]
        want = [row[0], row[3], row[1], "yes" if row[2] else "no", ", ".join(placeholders(row[1])) or "-"]
        assert cells == want, (cells, want)
    doc = json.loads(ok(providers(ctx, "--json")).stdout)
    assert doc["version"] == 1 and doc["command"] == "providers" and doc["ok"] is True, doc
    assert doc["config"] is None and doc["warnings"] == [], doc
    assert doc["catalog"].endswith("providers.cfg"), doc["catalog"]
    got = [(e["name"], e["base_url"], e["proxy"], e["display_name"], e["placeholders"])
           for e in doc["providers"]]
    assert got == [(r[0], r[1], r[2], r[3], placeholders(r[1])) for r in rows]


@test
def providers_name_gives_a_route_check_accepts(ctx):
    """Every provider a route can name: its detail's example route, pasted into a
    config, is accepted by `ampshim check` and routes to the provider's base URL;
    the others say why there is none."""
    rows = catalog_rows()
    examples = []
    head = ctx.config().split("routes = (")[0]
    # Each provider with placeholders (their values are chosen by name), the
    # first of the others, and those no route can name: a launcher a provider.
    plain = [r for r in rows if not placeholders(r[1]) and usable(r)]
    picked = [r for r in rows if placeholders(r[1]) or not usable(r) or r in plain[:10]]
    for row in picked:
        doc = json.loads(ok(providers(ctx, "--json", row[0])).stdout)
        e = doc["provider"]
        assert (e["name"], e["base_url"], e["proxy"], e["display_name"]) == row, (e, row)
        assert e["placeholders"] == placeholders(row[1]), e
        if not usable(row):
            assert e["example_route"] is None, e
            continue
        examples.append((row, e["example_route"]))
    assert len(examples) > 50, len(examples)
    text = head + "routes = (\n" + ",\n".join(ex for _, ex in examples) + "\n);\n"
    cfg = ctx.write_cfg("every-example.cfg", text)
    p = ok(subprocess.run([AMPSHIM, "check", "--json", "-c", cfg], capture_output=True, env=ctx.env()))
    doc = json.loads(p.stdout)
    assert [r["provider"] for r in doc["routes"]] == [row[0] for row, _ in examples]
    assert doc["warnings"] == [], doc["warnings"]
    # The text form shows the same route, to paste.
    p = ok(providers(ctx, "salesforce"))
    out = p.stdout.decode()
    assert "base URL:      https://{{.workspace}}.my.salesforce.com" in out, out
    assert "placeholders:  workspace" in out, out
    assert '  { provider = "salesforce"; workspace = "acme"; installation_id = "YOUR-INSTALLATION-ID"; }' in out
    one = ctx.write_cfg("one-example.cfg", head + "routes = (\n" + re.search(r"  (\{ provider.*\})", out).group(1)
                        + "\n);\n")
    out = ok(subprocess.run([AMPSHIM, "check", "-c", one], capture_output=True, env=ctx.env())).stdout.decode()
    assert "https://acme.my.salesforce.com (salesforce)" in out, out
    out = ok(providers(ctx, "adobe")).stdout.decode()
    assert "not supported" in out and "provider =" not in out, out
    out = ok(providers(ctx, "aws")).stdout.decode()
    assert "give the route a base_url" in out and "provider =" not in out, out


@test
def providers_unknown_name_and_usage_errors(ctx):
    p = providers(ctx, "hubspt")
    assert p.returncode == 2 and p.stdout == b"", p
    assert p.stderr == b"ampshim providers: unknown provider 'hubspt'; did you mean 'hubspot'?\n", p.stderr
    p = providers(ctx, "zzzzzzzzzz")
    assert p.returncode == 2 and p.stderr == b"ampshim providers: unknown provider 'zzzzzzzzzz'\n", p.stderr
    # The start of a longer name is offered too (zendeskChat, zendeskSupport: the first sorted).
    p = providers(ctx, "zendesk")
    assert p.returncode == 2 and b"unknown provider 'zendesk'; did you mean 'zendeskChat'?" in p.stderr, p.stderr
    p = providers(ctx, "--json", "hubspt")
    doc = json.loads(p.stdout)
    assert p.returncode == 2 and doc["ok"] is False, doc
    assert doc["error"]["message"] == "unknown provider 'hubspt'; did you mean 'hubspot'?", doc
    for args, first in ((["--bogus"], "unknown option '--bogus'"), (["-x"], "unknown option '-x'"),
                        (["--json=yes"], "option '--json' takes no argument"),
                        (["hubspot", "slack"], "unexpected argument 'slack'")):
        p = providers(ctx, *args)
        lines = p.stderr.decode().splitlines()
        assert p.returncode == 2 and p.stdout == b"" and len(lines) == 2, (args, p)
        assert lines[0].startswith("ampshim providers: " + first), (args, lines)
        assert lines[1] == "Try 'ampshim providers --help' for more information.", lines
    for flag in ("--help", "-h"):
        p = ok(providers(ctx, flag))
        out = p.stdout.decode()
        assert p.stderr == b"" and out.startswith("usage: ampshim providers [--json] [NAME]\n"), out
        assert "--json" in out and "Example:" in out and "-c FILE" not in out, out


def check(ctx, name, routes, proxy_extra="", tail=""):
    text = ctx.config().split("routes = (")[0].replace("rate_limiter_mode", proxy_extra + "rate_limiter_mode")
    text += "routes = (\n" + routes + "\n);\n" + tail
    cfg = ctx.write_cfg(name, text)
    return cfg, subprocess.run([AMPSHIM, "check", "-c", cfg], capture_output=True, env=ctx.env())


@test
def config_errors_suggest_the_nearest(ctx):
    """A misspelt provider, setting (a route's, the proxy's, throttle's) or
    placeholder: the error at FILE:LINE, the nearest valid name, and the list."""
    routes_line = ctx.config().split("routes = (")[0].count("\n") + 2
    cases = [
        ('{ provider = "hubspt"; installation_id = "i"; }', "", "", routes_line,
         "unknown provider 'hubspt'; did you mean 'hubspot'?"),
        ('{ provider = "hubspot"; instalation_id = "i"; }', "", "", routes_line,
         "unknown setting 'instalation_id'; did you mean 'installation_id'? valid here: base_url, provider, "
         "installation_id, integration_name, group_ref, drop_headers"),
        ('{ provider = "salesforce"; workpsace = "acme"; installation_id = "i"; }', "", "", routes_line,
         "unknown setting 'workpsace'; did you mean 'workspace'? valid here: base_url, provider, "
         "installation_id, integration_name, group_ref, drop_headers, workspace"),
        ('{ provider = "dynamicsCRM"; workspace = "a"; regoin = "b"; installation_id = "i"; }', "", "",
         routes_line, "unknown setting 'regoin'; did you mean 'region'? valid here: base_url, provider, installation_id, "
         "integration_name, group_ref, drop_headers, workspace, region"),
        ('{ provider = "hubspot"; installation_id = "i"; }', "instalation_id = \"x\"; ", "", 0,
         "unknown setting 'instalation_id'; valid here: url, project_id, api_key"),
        ('{ provider = "hubspot"; installation_id = "i"; }', "", 'throttle: { max_wiat = 3; };\n', -1,
         "unknown setting 'max_wiat'; did you mean 'max_wait'? valid here: on_block, max_wait, state_file, "
         "default_backoff, lockout_hold"),
    ]
    for i, (route, proxy_extra, tail, line, want) in enumerate(cases):
        cfg, p = check(ctx, "suggest-%d.cfg" % i, route, proxy_extra, tail)
        err = p.stderr.decode()
        assert p.returncode == 2 and p.stdout == b"", (route, p)
        text = open(cfg).read().splitlines()
        if line == 0:
            line = next(n for n, l in enumerate(text, 1) if "instalation_id" in l)
        elif line < 0:
            line = len(text)
        assert err.startswith("%s:%d: %s" % (cfg, line, want)), (err, line, want)
        # The library says the same when it loads it.
        p = subprocess.run(["curl", "-sS", SF + "/x"], capture_output=True,
                           env=preload_env(ctx, AMPSHIM_CONFIG=cfg))
        assert ("%s:%d: %s" % (cfg, line, want)) in p.stderr.decode(), p.stderr


@test
def check_warns_of_a_host_near_the_catalogs(ctx):
    """`check` warns (exit 0, stderr and --json's warnings) of a base_url host
    one or two edits from a catalog host, naming it; a catalog host, one
    matched by a placeholder, and an unrelated host get nothing."""
    near = [("https://api.hubapi.cmo", "api.hubapi.cmo", "api.hubapi.com (hubspot)"),
            ("https://acme.my.salesforce.cmo/x", "acme.my.salesforce.cmo", "acme.my.salesforce.com (salesforce)"),
            ("https://api.atlasian.com/ex/jira", "api.atlasian.com", "api.atlassian.com (atlassian)")]
    routes = ",\n".join('{ base_url = "%s"; installation_id = "i%d"; }' % (u, i) for i, (u, _, _) in enumerate(near))
    routes_line = ctx.config().split("routes = (")[0].count("\n") + 2
    cfg, p = check(ctx, "near-hosts.cfg", routes)
    ok(p)
    said = [l for l in p.stderr.decode().splitlines()]
    assert len(said) == len(near), said
    for n, (line, (_, host, want)) in enumerate(zip(said, near)):
        assert line == ("ampshim: warning: %s:%d: base_url host %s is not in the provider catalog; "
                        "did you mean %s?" % (cfg, routes_line + n, host, want)), line
    p = ok(subprocess.run([AMPSHIM, "check", "--json", "-c", cfg], capture_output=True, env=ctx.env()))
    doc = json.loads(p.stdout)
    assert len(doc["warnings"]) == 3 and "did you mean api.hubapi.com (hubspot)?" in doc["warnings"][0], doc
    fine = ",\n".join('{ base_url = "%s"; installation_id = "f%d"; }' % (u, i) for i, u in enumerate([
        "https://api.hubapi.com", "https://other.my.salesforce.com", "https://*.zendesk.com/api",
        "https://api.example.org", "https://git.internal.example.net/api", "http://127.0.0.1:8080"]))
    cfg, p = check(ctx, "fine-hosts.cfg", fine)
    assert ok(p).stderr == b"", p.stderr
    # The library loads the same config without a word (the scan is check's only).
    cfg, _ = check(ctx, "near-hosts-lib.cfg", routes)
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "http://127.0.0.1:1/"], capture_output=True,
                       env=preload_env(ctx, AMPSHIM_CONFIG=cfg))
    assert "ampshim[" not in p.stderr.decode(), p.stderr


@test
def readable_key_said_by_the_library_once(ctx):
    """Under plain LD_PRELOAD the library warns, once per process, that the file
    holding the key (the config for api_key, else the api_key_file) may be read
    by others; nothing when it is private or the level is error; under `ampshim
    run` the launcher says it and the library does not say it again."""
    url = "http://127.0.0.1:1/"
    cmd = ["curl", "-s", "-o", "/dev/null", url, url]
    readable = ctx.write_cfg("lib-readable.cfg", ctx.config(), mode=0o644)
    p = subprocess.run(cmd, capture_output=True, env=preload_env(ctx, AMPSHIM_CONFIG=readable))
    ours = [l for l in p.stderr.decode().splitlines() if l.startswith("ampshim[")]
    assert len(ours) == 1, p.stderr
    assert re.match(r"ampshim\[curl \d+\]: warning: %s holds the API key \(api_key\) and is readable by others: "
                    r"chmod 600 %s$" % (re.escape(readable), re.escape(readable)), ours[0]), ours
    p = subprocess.run(cmd, capture_output=True, env=preload_env(ctx, AMPSHIM_CONFIG=readable, AMPSHIM_LOG="error"))
    assert "ampshim[" not in p.stderr.decode(), p.stderr
    p = subprocess.run(cmd, capture_output=True, env=preload_env(ctx, AMPSHIM_CONFIG=ctx.cfg))
    assert "ampshim[" not in p.stderr.decode(), p.stderr
    # The key's own file, group-readable.
    key = os.path.join(ctx.dir, "lib-readable.key")
    with open(key, "w") as f:
        f.write(KEY + "\n")
    os.chmod(key, 0o640)
    keyed = ctx.write_cfg("lib-keyed.cfg", ctx.config(key_line='api_key_file = "lib-readable.key";'), mode=0o644)
    p = subprocess.run(cmd, capture_output=True, env=preload_env(ctx, AMPSHIM_CONFIG=keyed))
    ours = [l for l in p.stderr.decode().splitlines() if l.startswith("ampshim[")]
    assert len(ours) == 1 and ours[0].endswith("warning: %s holds the API key and is readable by its group: "
                                               "chmod 600 %s" % (key, key)), ours
    # Through the launcher: its line only.
    p = ctx.run(cmd, cfg=readable)
    err = p.stderr.decode()
    assert err.count("chmod 600") == 1 and "ampshim: warning: " in err and "ampshim[" not in err, err
