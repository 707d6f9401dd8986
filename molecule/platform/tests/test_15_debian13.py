"""Debian 13 (trixie) beside Debian 12 (bookworm) in one lab: pl2 runs trixie, the others
bookworm, and the whole platform converged on both (the other verifies run on pl2 as well).
Here: what differs by release - the baseline's report, the distribution's OpenJDK runtimes
through roles/java (21 and 25 on trixie; refused on bookworm, which lacks them), and Trino's
rendered JVM options started by the distribution's JDK 25, which ships the Vector API module."""

from __future__ import annotations

import json
import os
import re
import shlex

import pytest
import testinfra
from fdp_testinfra import playbook, recap_changed

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RELEASES = {"pl1": "12", "pl2": "13", "pl3": "12", "pl4": "12"}
HELPER = "molecule/platform/files/java-runtimes.yml"
# What Trino's launcher adds on JDK 25 (bin/launcher of 483, as tests/unit/test_trino_role.py).
LAUNCHER_JDK25 = ["-XX:+EnableDynamicAgentLoading", "--add-modules=jdk.incubator.vector",
                  "--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
                  "-XX:+UseCompactObjectHeaders"]


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


def runtimes(hosts: str, *names: str):
    return playbook(HELPER, "-e", f"fdp_hosts={hosts}", "-e", json.dumps({"fdp_runtimes": list(names)}))


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_each_host_runs_its_release_and_the_baseline_says_so(name):
    host = get(name)
    assert host.file("/etc/debian_version").content_string.split(".")[0].strip() == RELEASES[name]
    status = json.loads(host.file("/etc/fdp/baseline/status.json").content_string)
    assert re.match(rf"Debian {RELEASES[name]}(\.\d+)* \((bookworm|trixie)\)$", status["os"]), status["os"]


def test_the_distributions_jdk_21_and_25_install_through_the_java_role_on_trixie():
    first = runtimes("pl2", "jdk21_debian", "jdk25_debian")
    assert first.returncode == 0, first.stdout[-4000:]
    again = runtimes("pl2", "jdk21_debian", "jdk25_debian")
    assert again.returncode == 0 and recap_changed(again.stdout)["pl2"] == 0, again.stdout[-4000:]
    host = get("pl2")
    for runtime, major in (("jdk21_debian", "21"), ("jdk25_debian", "25")):
        version = host.run(f"/opt/fdp/{runtime}/bin/java -version")
        assert version.rc == 0 and f'version "{major}.' in version.stderr, version.stderr
        env = host.file(f"/etc/fdp/java/{runtime}.env").content_string
        assert f"JAVA_HOME=/opt/fdp/{runtime}" in env


def test_a_packaged_runtime_is_refused_on_a_release_without_it():
    result = runtimes("pl3", "jdk25_debian")
    assert result.returncode != 0
    out = " ".join((result.stdout + result.stderr).split())  # failed results may go to stderr
    assert ("host pl3 runs Debian 12, but runtime 'jdk25_debian' (openjdk-25-jre-headless) is packaged only for"
            " Debian 13") in out, out[-3000:]
    assert not get("pl3").file("/opt/fdp/jdk25_debian").exists


def test_trinos_rendered_jvm_options_start_the_distributions_jdk_25():
    """The options of /etc/fdp/trino/jvm.config as the launcher passes them, plus the launcher's
    own for JDK 25 (the Vector API module included: this JDK ships it), on the runtime the
    inventory chose for Trino on this host. The metrics agent is left out: its jar comes with the
    server's installation, which the lab mirror cannot provide."""
    host = get("pl2")
    java = "/opt/fdp/jdk25_debian/bin/java"
    assert "jdk.incubator.vector" in host.check_output(f"{java} --list-modules")
    lines = [line.strip() for line in host.file("/etc/fdp/trino/jvm.config").content_string.splitlines()]
    options = [line for line in lines if line and not line.startswith("#") and not line.startswith("-javaagent:")]
    assert any(o.startswith("-Xmx") for o in options) and any(o.startswith("@") for o in options)
    command = " ".join(shlex.quote(o) for o in [java, *options, *LAUNCHER_JDK25, "-XshowSettings:properties", "-version"])
    result = host.run(command)
    assert result.rc == 0, result.stderr[-3000:]
    assert 'version "25.' in result.stderr and "javax.net.ssl.trustStoreType = PKCS12" in result.stderr
    bogus = host.run(f"{java} {' '.join(shlex.quote(o) for o in options)} -XX:+NoSuchTrinoOption -version")
    assert bogus.rc != 0 and "Unrecognized VM option 'NoSuchTrinoOption'" in bogus.stderr
