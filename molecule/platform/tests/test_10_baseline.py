"""Behaviour of the OS baseline on real lab hosts (containers: kernel settings not applied)."""

from __future__ import annotations

import pytest
from fdp_testinfra import last_check_mode_run, read_json, run_reports

STATUS = "/etc/fdp/baseline/status.json"
HOSTS = {"pl1", "pl2", "pl3", "pl4"}


def test_check_mode_after_converge_changed_nothing():
    run = last_check_mode_run()
    assert run["failed"] == [] and run["unreachable"] == []
    assert run["changed"] == [], f"check mode would change: {run['changed']}"
    assert set(run["hosts"]) == HOSTS


# Tasks that exist only on the full paths of the service skeleton (install_steps.yml,
# configure_steps.yml) and of the OS baseline (roles/common/tasks/apply.yml).
FULL_PATH_TASKS = ("Create the further directories - ", "Render the systemd units - ",
                   "Record the completed install (the fast path's stamp) - ", "common : Configure journald",
                   "common : Record the completed baseline (the fast path's stamp)")


def _full_path_tasks(run: dict) -> list[str]:
    return sorted({t["task"] for t in run["tasks"] if any(marker in t["task"] for marker in FULL_PATH_TASKS)})


def test_the_fast_path_found_every_component_as_specified_on_the_reruns():
    """After the converge, the OS baseline and every component on every host are installed and
    rendered as specified: the idempotence run and the check after it never entered the install
    or render steps (the fast path's one check per host and component said so), and the converge
    itself did."""
    # The scenario's converge playbook is site.yml itself; its first two runs are converge and idempotence.
    converges = [r for r in run_reports() if r["playbook"] == "site.yml" and not r["check_mode"]]
    assert len(converges) >= 2, "the scenario's converge and idempotence runs are recorded"
    assert _full_path_tasks(converges[0]), "the first converge must have taken the full path"
    assert _full_path_tasks(converges[1]) == [], "components that took the full path on a no-op"
    assert _full_path_tasks(last_check_mode_run()) == [], "components that took the full path in check mode"


def test_no_failed_units(host):
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout.strip()
    assert state == "running", failed


@pytest.mark.parametrize("pkg", ["chrony", "nftables", "ca-certificates", "python3-apt", "acl"])
def test_packages(host, pkg):
    assert host.package(pkg).is_installed


def test_journald_runs_with_the_platform_limits(host):
    config = host.run("systemd-analyze cat-config systemd/journald.conf").stdout
    assert "SystemMaxUse=2G" in config and "RateLimitBurst=20000" in config
    # The running journald was (re)started after the drop-in was written, so it uses it.
    started = int(host.run("date -d \"$(systemctl show -P ActiveEnterTimestamp systemd-journald)\" +%s").stdout)
    written = host.file("/etc/systemd/journald.conf.d/60-fdp.conf").mtime.timestamp()
    assert started >= int(written)
    assert host.file("/var/log/journal").is_directory  # Storage=persistent


def test_chrony_configured_enabled_and_honestly_not_running_in_a_container(host):
    conf = host.file("/etc/chrony/chrony.conf").content_string
    assert "pool 2.debian.pool.ntp.org iburst" in conf and "makestep 1 3" in conf
    svc = host.service("chrony")
    assert svc.is_enabled
    # The clock belongs to the container's host: systemd skipped the unit on its condition.
    assert not svc.is_running
    assert "ConditionCapability=CAP_SYS_TIME" in host.run("systemctl status chrony").stdout
    assert read_json(host, STATUS)["time_sync_running"] is False


def sysctl_live(host, key):
    return host.file("/proc/sys/" + key.replace(".", "/")).content_string.split()


def test_network_namespace_sysctls_are_applied_live(host):
    assert sysctl_live(host, "net.core.somaxconn") == ["8192"]  # override wins over 4096
    assert sysctl_live(host, "net.ipv4.tcp_keepalive_time") == ["300"]
    assert sysctl_live(host, "net.ipv4.tcp_rmem") == ["4096", "131072", "16777216"]
    persisted = host.file("/etc/sysctl.d/60-fdp.conf").content_string
    assert "net.core.somaxconn = 8192" in persisted
    assert "tcp_mtu_probing" not in persisted  # removed by a null override
    assert "vm." not in persisted and "fs." not in persisted


def test_kernel_sysctls_rendered_not_applied(host):
    status = read_json(host, STATUS)
    assert status["in_container"] is True and status["kernel_managed"] is False
    rendered = host.file("/etc/fdp/baseline/not-applied/60-fdp-host.conf").content_string
    for line in ("vm.swappiness = 1", "vm.max_map_count = 262144", "fs.file-max = 4194304",
                 "net.core.rmem_max = 16777216"):
        assert line in rendered
    assert status["sysctl_not_applied"]["vm.swappiness"] == "1"
    assert status["sysctl_not_applied"]["vm.max_map_count"] == "262144"
    # Nothing pretends: no boot-time file would apply it, and the live value is the machine's.
    assert not host.file("/etc/sysctl.d/60-fdp-host.conf").exists
    # And the write really is impossible here, which is why it was not attempted.
    assert host.run("sysctl -w vm.swappiness=1").rc != 0


def test_limits_rendered_not_applied_above_the_host_cap(host):
    status = read_json(host, STATUS)
    assert status["limits_applied"] is False
    assert status["limits_over_host_cap"]["nofile"] == "1048576 > 20000"
    assert not host.file("/etc/security/limits.d/90-fdp.conf").exists
    rendered = host.file("/etc/fdp/baseline/not-applied/90-fdp-limits.conf").content_string
    assert "root     hard  nofile     1048576" in rendered
    # Logins still work and get the host's limit, not an error.
    assert host.run("sh -c 'ulimit -Hn'").stdout.strip() == "20000"


def test_thp_and_swap_policy_rendered_not_applied(host):
    assert not host.file("/etc/systemd/system/fdp-thp.service").exists
    unit = host.file("/etc/fdp/baseline/not-applied/fdp-thp.service").content_string
    assert "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled" in unit
    status = read_json(host, STATUS)
    assert status["thp_applied"] is False and status["swap_applied"] is False


def test_directory_convention(host):
    for path in ("/opt/fdp", "/etc/fdp", "/var/lib/fdp", "/var/log/fdp"):
        d = host.file(path)
        assert d.is_directory and d.user == "root" and d.mode == 0o755


def test_service_account_convention(host):
    user = host.user("fdpdemo")
    assert user.exists and user.shell == "/usr/sbin/nologin" and user.home == "/var/lib/fdp/fdpdemo"
    assert "fdp" in user.groups
    assert user.uid < 1000  # system account
    assert host.run("passwd -S fdpdemo").stdout.split()[1] == "L"  # locked password
    expected = {
        "/etc/fdp/fdpdemo": ("root", "fdpdemo"),
        "/var/lib/fdp/fdpdemo": ("fdpdemo", "fdpdemo"),
        "/var/log/fdp/fdpdemo": ("fdpdemo", "fdpdemo"),
    }
    for path, (owner, group) in expected.items():
        d = host.file(path)
        assert d.is_directory and (d.user, d.group, d.mode) == (owner, group, 0o750), path


def test_each_host_has_its_own_identity(host):
    # Shared base image, own overlay: hostname, machine-id and host keys differ per host.
    name = host.backend.get_hostname()
    assert host.run("hostname").stdout.strip() == name
    machine_id = host.file("/etc/machine-id").content_string.strip()
    assert len(machine_id) == 32
    assert machine_id not in SEEN_IDS.values()
    SEEN_IDS[name] = machine_id


SEEN_IDS: dict[str, str] = {}


def test_the_platform_runs_without_the_system_trust_store(host):
    # pki_system_trust_store is off here: every TLS client of the platform (the services, their
    # probes, the exporters, the smoke jobs the verifies run) names its CA file, and the verifies
    # of every component pass with the platform CA absent from the system store.
    assert host.run("ls /usr/local/share/ca-certificates/ | grep '^fdp-'").stdout.split() == []
    assert host.run("openssl verify /etc/fdp/tls/host.crt").rc != 0
    assert host.run("openssl verify -CAfile /etc/fdp/tls/cas/ca.crt /etc/fdp/tls/host.crt").rc == 0


# Every account that runs a TLS service, as the roles give them their copies (service_tls_copies).
KEY_COPIES = {
    "prometheus": {"host.crt", "host.key"}, "alertmanager": {"host.crt", "host.key"},
    "node_exporter": {"host.crt", "host.key"}, "grafana": {"host.crt", "host.key"},
    "postgres": {"fullchain.crt", "host.key"}, "postgres_exporter": {"host.crt", "host.key"},
    "seaweedfs": {"host.crt", "fullchain.crt", "host.key"}, "minio": {"fullchain.crt", "host.key"},
    "flink": {"keystore.p12", "mesh-flink.p12"}, "hive": {"keystore.p12"}, "kafka": {"keystore.p12"},
    "trino": {"keystore.p12"}, "zookeeper": {"keystore.p12"},
}

# For each account with a copy: can it read each account's copy, and the originals? One line each.
READ_MATRIX = r"""
cd /etc/fdp/tls/private
for reader in *; do
  for file in */* ../host.key ../keystore.p12 ../mesh-flink.key ../mesh-flink.p12; do
    [ -e "$file" ] || continue
    if runuser -u "$reader" -- head -c 1 "$file" >/dev/null 2>&1; then r=read; else r=denied; fi
    echo "$reader $file $r"
  done
done
"""


def test_each_service_account_reads_its_own_copy_of_the_key_and_no_other(host):
    """The host key and keystore are root's alone (0600); each service account reads its own
    copy (root:<account> 0640 in /etc/fdp/tls/private/<account>/, the original's content) and
    neither another account's copy nor the originals - the Flink account's keystores included
    (the platform one for REST, the flink mesh's for internal TLS)."""
    for original in ("/etc/fdp/tls/host.key", "/etc/fdp/tls/keystore.p12", "/etc/fdp/tls/mesh-flink.key",
                     "/etc/fdp/tls/mesh-flink.p12"):
        f = host.file(original)
        if f.exists:
            assert (f.user, f.group, f.mode) == ("root", "root", 0o600), original
    accounts = set(host.check_output("ls /etc/fdp/tls/private").split())
    assert "node_exporter" in accounts and accounts <= set(KEY_COPIES), accounts
    if host.service("flink-jobmanager").is_running or host.service("flink-taskmanager").is_running:
        assert "flink" in accounts
    for account in accounts:
        directory = host.file(f"/etc/fdp/tls/private/{account}")
        assert (directory.user, directory.group, directory.mode) == ("root", account, 0o750), account
        names = set(host.check_output(f"ls /etc/fdp/tls/private/{account}").split())
        assert names == KEY_COPIES[account], account
        for name in names:
            copy = host.file(f"/etc/fdp/tls/private/{account}/{name}")
            assert (copy.user, copy.group, copy.mode) == ("root", account, 0o640), copy.path
            assert host.run(f"cmp -s {copy.path} /etc/fdp/tls/{name}").rc == 0, f"{copy.path} is not the current file"
    rows = [line.split() for line in host.check_output(READ_MATRIX).splitlines()]
    assert len(rows) >= len(accounts) * (len(accounts) + 1)
    wrong = [(reader, path, result) for reader, path, result in rows
             if result != ("read" if path.split("/")[0] == reader else "denied")]
    assert not wrong, wrong
