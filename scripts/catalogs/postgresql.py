#!/usr/bin/env python3
"""Generate the key catalog of PostgreSQL's server settings (postgresql.conf) from the servers themselves.

What it reads
-------------
The output of ``postgres --describe-config`` of each server binary given on the command line: every
parameter the server knows, with its context (``postmaster``: read at server start only; ``sighup``:
re-read on a reload; ``superuser``/``user``/``backend``...: settable in postgresql.conf and re-read on a
reload too). The servers are the distribution's (Debian 12 ships PostgreSQL 15, Debian 13 ships 17)::

    apt-get install postgresql-15                     # on Debian 12: /usr/lib/postgresql/15/bin/postgres
    chroot <a Debian 13 root> /usr/lib/postgresql/17/bin/postgres --describe-config

``postgres`` refuses to run as root: the generator runs it as ``nobody`` when it is root itself, inside
``chroot DIR`` for a binary of another release's root file system (``--root DIR``).

What the sections mean
----------------------
One section per major version (``"15"``, ``"17"``): ``keys`` (sorted, lower case: PostgreSQL's parameter
names are case-insensitive), ``contexts`` (key -> context) and
``restart`` (the keys of context ``postmaster``, which only a restart applies; roles/postgresql puts
them into the file whose change restarts the server and the others into the one a reload re-reads).

How to run
----------
    scripts/key-catalog postgresql /usr/lib/postgresql/15/bin/postgres \\
        --root /var/cache/fdp-lab/images/trixie-<hash> /usr/lib/postgresql/17/bin/postgres \\
        -o ansible/catalogs/postgresql.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path


def describe(binary: str, root: str | None) -> tuple[str, dict[str, str]]:
    """(server version, {parameter: context}) of one postgres binary."""
    command = [binary, "--describe-config"]
    version_command = [binary, "--version"]
    if root:
        command = ["chroot", "--userspec=nobody:nogroup", root, *command]
        version_command = ["chroot", "--userspec=nobody:nogroup", root, *version_command]
    elif os.geteuid() == 0:
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
        version_command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *version_command]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    version = re.search(r"(\d+)\.(\d+)", subprocess.run(version_command, capture_output=True, text=True,
                                                        check=True).stdout)
    contexts = {}
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and fields[0]:
            # parameter names are case-insensitive (DateStyle, TimeZone): the catalog and the
            # rendered files use lower case
            contexts[fields[0].lower()] = fields[1]
    return f"{version.group(1)}.{version.group(2)}", contexts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("items", nargs="+", metavar="[--root DIR] BINARY")
    args = parser.parse_args([a for a in argv if a != "--root"])
    # --root DIR applies to the binary that follows it
    pairs, root, rest = [], None, [a for a in argv if a not in ("-o", "--output", args.output)]
    for index, item in enumerate(rest):
        if item == "--root":
            continue
        if index > 0 and rest[index - 1] == "--root":
            root = item
            continue
        pairs.append((item, root))
        root = None
    sections, versions = {}, []
    for binary, root_dir in pairs:
        version, contexts = describe(binary, root_dir)
        versions.append(version)
        sections[version.split(".")[0]] = {
            "description": f"postgresql.conf of PostgreSQL {version.split('.')[0]} ({version}, postgres --describe-config)",
            "keys": sorted(contexts),
            "contexts": dict(sorted(contexts.items())),
            "restart": sorted(k for k, v in contexts.items() if v == "postmaster"),
        }
    catalog = {
        "component": "postgresql",
        "version": ", ".join(versions),
        "source": "postgres --describe-config of the Debian servers " + ", ".join(versions),
        "generated_by": "scripts/key-catalog postgresql <postgres binaries>",
        "sections": dict(sorted(sections.items())),
    }
    Path(args.output).write_text(json.dumps(catalog, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.output}: " + ", ".join(f"{k}: {len(v['keys'])} keys" for k, v in sections.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
