"""Helpers shared by the Molecule verify tests of every scenario."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import time
from pathlib import Path

# testinfra reaches a lab host over SSH (the inventory's connection), multiplexed over one
# connection per host only when Ansible's control_path_dir exists: it then adds the scenario's
# [ssh_connection] control_path. Mitogen, the platform's strategy, never creates that directory,
# and without it every host.run() was a new SSH handshake - about 0.27 s against 0.02 s on a
# quiet 2-core machine, and the verifies run thousands of commands. Ansible itself is not
# affected (Mitogen keeps its own connections and ignores control_path).
Path("~/.ansible/cp").expanduser().mkdir(mode=0o700, parents=True, exist_ok=True)


def run_reports() -> list[dict]:
    """Summaries of every ansible-playbook run of this scenario (fdp_run_report callback)."""
    path = Path(os.environ["FDP_RUN_REPORT"])
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_mode_runs() -> list[dict]:
    return [r for r in run_reports() if r["check_mode"]]


def last_check_mode_run() -> dict:
    runs = [r for r in run_reports() if r["check_mode"]]
    assert runs, "no check-mode run recorded: the scenario's test_sequence must run `check` before `verify`"
    return runs[-1]


def read_json(host, path: str) -> dict:
    return json.loads(host.file(path).content_string)


def wait_for(predicate, timeout: float = 120, step: float = 2):
    """Poll `predicate` until it returns something truthy; errors of a service that is not
    ready yet count as "not yet". Fails with the last result after `timeout` seconds."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, KeyError, ValueError, IndexError) as exc:
            last = exc
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s; last result: {last!r}")


def playbook(*args: str) -> subprocess.CompletedProcess:
    """ansible-playbook against the scenario's inventory, from the project, with Molecule's config."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    cfg = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "ansible.cfg"
    if cfg.is_file():
        env["ANSIBLE_CONFIG"] = str(cfg)
    # The inventory directory, as Molecule passes it: the scenario's inventory and the lab mirror's pins.
    inventory = str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)
    return subprocess.run(["ansible-playbook", "-i", inventory, *args],
                          cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def changed_tasks(stdout: str) -> list[str]:
    """The names of the tasks that reported "changed" in a playbook's output."""
    tasks, current = [], ""
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            current = line[6:line.rfind("]")]
        elif line.startswith("changed: [") and current:
            tasks.append(current)
    return tasks


def recap_changed(output: str) -> dict[str, int]:
    """Host -> changed count, from a play recap."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def accepted_sources(host, port: int) -> list:
    """The source networks the live input chain accepts on tcp/<port>: addresses, prefixes and the
    ranges nft prints when it merges neighbouring addresses of an interval set (a-b)."""
    chain = host.check_output("nft list chain inet fdp_filter input")
    networks: list = []
    for line in chain.splitlines():
        if f"dport {port} " not in line + " " or "accept" not in line or "saddr" not in line:
            continue
        text = line.split("saddr", 1)[1]
        for first, last in re.findall(r"(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)", text):
            networks += ipaddress.summarize_address_range(ipaddress.ip_address(first), ipaddress.ip_address(last))
        text = re.sub(r"\d+\.\d+\.\d+\.\d+-\d+\.\d+\.\d+\.\d+", " ", text)
        networks += [ipaddress.ip_network(a) for a in re.findall(r"\d+\.\d+\.\d+\.\d+(?:/\d+)?", text)]
    return networks


def covers(networks: list, address: str) -> bool:
    return any(ipaddress.ip_address(address) in network for network in networks)


def inventory_dir() -> Path:
    """The scenario's inventory directory (its credentials/ and pki/ live there)."""
    return Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent


def lab_host(name: str):
    """A testinfra host of the scenario's inventory, reached the way Ansible reaches it."""
    import testinfra  # noqa: PLC0415 - only the verify tests have it

    return testinfra.get_host(f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


def credential(name: str) -> str:
    """A generated platform secret of the scenario (credentials/<name>)."""
    return (inventory_dir() / "credentials" / name).read_text(encoding="utf-8").strip()
