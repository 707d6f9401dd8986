"""scripts/lab on this machine: real hosts up, each with its own identity and network namespace,
reachable over SSH with pinned host keys; preflight against them; then `down` leaves nothing.

Uses its own lab directory, bridge and subnet (10.231.20.0/24), so it never touches `make lab`
or a Molecule scenario."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import REPO, read_report, run_playbook

pytestmark = pytest.mark.lab
LAB = str(REPO / "scripts" / "lab")
BRIDGE, NET, NAMES = "fdptest0", "10.231.20", ["lt1", "lt2"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (systemd-nspawn, bridges, cgroups): run them as root")
    lab_dir = tmp_path_factory.mktemp("lab")
    env = dict(os.environ, LAB_DIR=str(lab_dir), LAB_BRIDGE=BRIDGE, LAB_NET=NET)

    def run(*args, check=True):
        return subprocess.run([LAB, *args], env=env, capture_output=True, text=True, check=check, timeout=600)

    run("up", *NAMES)
    try:
        yield {"dir": lab_dir, "run": run, "inventory": lab_dir / "inventory.yml"}
    finally:
        run("down", check=False)


def pids(lab_dir: Path) -> dict[str, tuple[int, int]]:
    run = lab_dir / "run"
    return {n: (int((run / f"{n}.pid").read_text()), int((run / f"{n}.init").read_text())) for n in NAMES}


def test_hosts_boot_systemd_and_answer_ssh_with_pinned_host_keys(lab):
    for name in NAMES:
        out = lab["run"]("ssh", name, "hostname; systemctl is-system-running --wait; cat /etc/machine-id").stdout.split()
        assert out[0] == name and out[1] == "running"
    known = (lab["dir"] / "ssh" / "known_hosts").read_text()
    assert f"lt1,{NET}.11 ssh-ed25519" in known  # strict host key checking, not /dev/null


def test_each_host_has_its_own_identity_and_network_namespace(lab):
    ids, keys, netns = set(), set(), set()
    for name in NAMES:
        ids.add(lab["run"]("ssh", name, "cat /etc/machine-id").stdout.strip())
        keys.add(lab["run"]("ssh", name, "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[1])
        nspawn_pid, init_pid = pids(lab["dir"])[name]
        netns.add(os.readlink(f"/proc/{init_pid}/ns/net"))
    assert len(ids) == len(keys) == len(netns) == len(NAMES)
    assert os.readlink("/proc/self/ns/net") not in netns
    # Hosts reach each other by name over the bridge.
    assert lab["run"]("ssh", "lt1", "ping -c1 -W2 lt2").returncode == 0


def jvm_flag(output: str, name: str) -> str | None:
    """A flag's value in `java -XX:+PrintFlagsFinal` output ('intx Name = value {kind} {origin}')."""
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1] == name and parts[2] == "=":
            return parts[3]
    return None


def test_services_start_their_jvms_with_the_c1_compiler_only(lab):
    # A transient service, started the way systemd starts the platform's units: its JVM sees the
    # lab's default environment and runs with C1 alone (LAB_JVM_JIT=c1, the default).
    service = lab["run"]("ssh", "lt1", "systemd-run --wait --pipe --quiet java -XX:+PrintFlagsFinal -version").stdout
    assert jvm_flag(service, "TieredStopAtLevel") == "1", service[-500:]
    # Commands over SSH keep the JVM's own choice.
    over_ssh = lab["run"]("ssh", "lt1", "java -XX:+PrintFlagsFinal -version").stdout
    assert jvm_flag(over_ssh, "TieredStopAtLevel") == "4", over_ssh[-500:]


def test_inventory_is_written_and_usable(lab):
    inv = yaml.safe_load(lab["inventory"].read_text())
    assert inv["lab"]["hosts"] == {n: {"ansible_host": f"{NET}.{11 + i}", "lab_suite": "bookworm"}
                                    for i, n in enumerate(NAMES)}
    ping = subprocess.run([str(REPO / ".venv" / "bin" / "ansible"), "-i", str(lab["inventory"]), "lab", "-m", "ping"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert ping.returncode == 0 and ping.stdout.count("SUCCESS") == len(NAMES), ping.stdout


def test_up_is_idempotent(lab):
    before = pids(lab["dir"])
    result = lab["run"]("up", *NAMES)
    assert result.stderr.count("already running") == len(NAMES)
    assert pids(lab["dir"]) == before


def test_preflight_rejects_an_unsupported_os_on_real_hosts(lab, tmp_path):
    inv_dir = tmp_path / "inv"
    (inv_dir / "group_vars").mkdir(parents=True)
    (inv_dir / "hosts.yml").write_text(lab["inventory"].read_text())
    (inv_dir / "group_vars" / "all.yml").write_text(
        "platform_environment: labtest\nplatform_admin_cidrs: [10.231.20.0/24]\nplatform_extra_groups: [lab]\n")
    report = tmp_path / "report.jsonl"
    ok = run_playbook("ansible/playbooks/preflight.yml", inv_dir, report=report)
    assert ok.returncode == 0, ok.stdout
    bad = run_playbook("ansible/playbooks/preflight.yml", inv_dir, "-e", '{"platform_supported_os": {"Debian": ["11"]}}',
                       report=report)
    assert bad.returncode != 0
    assert "host 'lt1' runs Debian 12, which is not supported; supported: Debian 11" in bad.stdout
    assert all(run["changed"] == [] for run in read_report(report))


def test_down_of_another_lab_leaves_this_labs_cgroups_alone(lab, tmp_path):
    """A booting host's unit cgroup is empty for a moment before its process moves in; another
    lab's `down` (Molecule's destroy, a parallel scenario) must not remove it (219/CGROUP)."""
    roots = [r for r in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup")
             if Path(r, "fdp-lab", "lt1").is_dir()]
    assert roots, "lt1 has no cgroup under fdp-lab"
    probes = [Path(r, "fdp-lab", "lt1", "probe-empty") for r in roots]
    for probe in probes:
        probe.mkdir()
    try:
        other = tmp_path / "other-lab"
        (other / "run").mkdir(parents=True)
        env = dict(os.environ, LAB_DIR=str(other), LAB_BRIDGE="fdptest1", LAB_NET="10.231.21")
        subprocess.run([LAB, "down"], env=env, capture_output=True, text=True, check=True, timeout=120)
        assert all(probe.is_dir() for probe in probes)
    finally:
        for probe in probes:
            if probe.is_dir():
                probe.rmdir()


def test_down_leaves_nothing_behind(lab):
    recorded = pids(lab["dir"])
    forward_before = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    lab["run"]("nat-on")  # optional egress: down must remove it too
    assert "fdp_lab_nat" in subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    lab["run"]("down")
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == forward_before
    for nspawn_pid, init_pid in recorded.values():
        assert not Path(f"/proc/{nspawn_pid}").exists() and not Path(f"/proc/{init_pid}").exists()
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert BRIDGE not in links and not any(f"vb-{n}" in links for n in NAMES)
    assert not any((lab["dir"] / "nodes").iterdir())
    ruleset = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout
    assert "fdp_lab_nat" not in ruleset
    assert not any(Path(p).exists() for p in ("/sys/fs/cgroup/unified/fdp-lab/lt1", "/sys/fs/cgroup/systemd/fdp-lab/lt1"))
    assert not (lab["dir"] / "inventory.yml").exists()
