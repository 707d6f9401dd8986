"""The role's storage tasks run by Ansible itself (tasks/storage_check.yml, storage.yml,
storage_format.yml) on real directories, with a stand-in for bin/kafka-storage.sh behind the real
tool wrapper: the first run formats every empty directory once - the controllers with the same
--initial-controllers and the admin's SCRAM credential, the brokers with the cluster id only - from
an @argfile that is gone afterwards; the second run formats nothing; a directory of another
cluster stops the run before anything is formatted; check mode formats nothing and says what it
would do."""

from __future__ import annotations

import getpass
import grp
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from fdp_kafka import kafka_uuid
from helpers import REPO, run_playbook

PLAY = """
- name: The storage step of roles/kafka, between its configure and apply steps
  hosts: kafka_controller:kafka_broker
  gather_facts: false
  tasks:
    - name: Check the storage
      ansible.builtin.include_role:
        name: kafka
        tasks_from: storage_check.yml
        public: true
    - name: Format what is empty
      ansible.builtin.include_role:
        name: kafka
        tasks_from: storage.yml
"""
INVENTORY = """
all:
  children:
    kafka_controller:
      hosts:
        s1: {ansible_host: 198.51.100.71}
        s2: {ansible_host: 198.51.100.72}
        s3: {ansible_host: 198.51.100.73}
    kafka_broker:
      hosts:
        s1: {}
        s2: {}
        s3: {}
        s4: {ansible_host: 198.51.100.74}
"""
CONTROLLERS, BROKERS = ["s1", "s2", "s3"], ["s1", "s2", "s3", "s4"]
# Stands in for bin/kafka-storage.sh: records the @argfile it is given and, like the real tool with
# --ignore-formatted, writes meta.properties into the directories of the config that have none.
FAKE_STORAGE_TOOL = r"""#!/bin/sh
set -eu
argfile=${1#@}
cp "$argfile" "$(mktemp "$RECORD/call-XXXXXX")"
config=$(sed -n '/^--config$/{n;p;}' "$argfile")
cid=$(sed -n '/^--cluster-id$/{n;p;}' "$argfile")
for d in $(cat "$config.dirs"); do
  mkdir -p "$d"
  [ -f "$d/meta.properties" ] ||
    printf 'version=1\ncluster.id=%s\nnode.id=%s\n' "$cid" "$(cat "$config.node")" > "$d/meta.properties"
done
"""


@pytest.fixture()
def site(tmp_path):
    """Per host: its data directories, config directory (with the stand-in's knowledge of which
    directories each process's config names) and the tools' environment file."""
    home = tmp_path / "kafka-home"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "kafka-storage.sh").write_text(FAKE_STORAGE_TOOL, encoding="utf-8")
    (home / "bin" / "kafka-storage.sh").chmod(0o755)
    record = tmp_path / "record"
    record.mkdir()
    ids = {"controller": {"s1": 3000, "s2": 3001, "s3": 3002}, "broker": {"s1": 1, "s2": 2, "s3": 3, "s4": 4}}
    for host in BROKERS:
        conf = tmp_path / host / "conf"
        conf.mkdir(parents=True)
        (conf / "tools.env").write_text(f"KAFKA_HOME={home}\nRECORD={record}\n", encoding="utf-8")
        for process in ("controller", "broker"):
            if host in ids[process]:
                (conf / f"{process}.properties.dirs").write_text(str(tmp_path / host / process), encoding="utf-8")
                (conf / f"{process}.properties.node").write_text(str(ids[process][host]), encoding="utf-8")
    user = getpass.getuser()
    variables = {
        "platform_credentials_dir": str(tmp_path / "credentials"), "platform_environment": "test",
        "platform_admin_cidrs": ["198.51.100.0/24"], "kafka_install": True,
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "_kafka_libexec": str(REPO / "roles" / "kafka" / "files"),
        "_kafka_conf_dir": f"{tmp_path}/{{{{ inventory_hostname }}}}/conf",
        "kafka_controller_log_dir": f"{tmp_path}/{{{{ inventory_hostname }}}}/controller",
        "kafka_log_dirs": [f"{tmp_path}/{{{{ inventory_hostname }}}}/broker"],
        "_kafka_user": user,
    }
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "hosts.yml").write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    if grp.getgrgid(os.getgid()).gr_name != user:
        pytest.skip("the chown step needs a group named like the user running the tests")
    return tmp_path


def run(site: Path, *args: str):
    return run_playbook(str(site / "play.yml"), site / "inv", "-e", f"@{site / 'vars.yml'}", *args)


def calls(site: Path) -> list[list[str]]:
    return [p.read_text(encoding="utf-8").splitlines() for p in sorted((site / "record").iterdir())]


def test_first_run_formats_everything_once_and_the_second_nothing(site):
    check = run(site, "--check")
    assert check.returncode == 0, check.stdout[-4000:]
    assert calls(site) == [] and not (site / "s1" / "controller").exists()
    assert "(controller, initial)" in check.stdout and "(broker, format)" in check.stdout

    # a new host in check mode: the reader is not installed yet, every directory counts as empty
    fresh = run(site, "--check", "-e", "_kafka_libexec=/nonexistent")
    assert fresh.returncode == 0, fresh.stdout[-4000:]
    assert "(controller, initial)" in fresh.stdout and "(broker, format)" in fresh.stdout and calls(site) == []

    first = run(site)
    assert first.returncode == 0, first.stdout[-4000:]
    made = calls(site)
    assert len(made) == 7  # 3 controllers + 4 brokers
    cluster_id = kafka_uuid((site / "credentials" / "kafka_cluster_id").read_text(encoding="utf-8").split()[0])
    admin_password = (site / "credentials" / "kafka_admin_password").read_text(encoding="utf-8").split()[0]
    controllers = [c for c in made if "--initial-controllers" in c]
    brokers = [c for c in made if "--initial-controllers" not in c]
    assert len(controllers) == 3 and len(brokers) == 4
    assert len({c[c.index("--initial-controllers") + 1] for c in controllers}) == 1  # the same list everywhere
    voters = controllers[0][controllers[0].index("--initial-controllers") + 1].split(",")
    assert [v.split("@")[0] for v in voters] == ["3000", "3001", "3002"]
    assert [v.split("@")[1].rsplit(":", 1)[0] for v in voters] == ["198.51.100.71:9093", "198.51.100.72:9093",
                                                                   "198.51.100.73:9093"]
    for call in made:
        assert call[:2] == ["format", "--config"] and call[call.index("--cluster-id") + 1] == cluster_id
        assert "--ignore-formatted" in call
    for call in controllers:
        assert call[-2:] == ["--add-scram", f"SCRAM-SHA-512=[name=admin,iterations=8192,password={admin_password}]"]
    for call in brokers:
        assert "--add-scram" not in call and "--no-initial-controllers" not in call
    assert admin_password not in first.stdout  # the @argfile's content is never logged
    assert not list(Path("/tmp").glob("ansible.*kafka-format"))  # the argument files are gone
    for host in BROKERS:
        assert (site / host / "broker" / "meta.properties").is_file()

    second = run(site)
    assert second.returncode == 0, second.stdout[-4000:]
    assert len(calls(site)) == 7  # nothing formatted again
    assert "changed=0" in second.stdout.split("PLAY RECAP")[1]


def test_storage_of_another_cluster_stops_the_run_before_any_format(site):
    foreign = site / "s2" / "broker"
    foreign.mkdir(parents=True)
    (foreign / "meta.properties").write_text("version=1\ncluster.id=otherClusterIdAAAAAAAAA\nnode.id=2\n",
                                             encoding="utf-8")
    result = run(site)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "belongs to Kafka cluster otherClusterIdAAAAAAAAA" in out and "refusing to touch it" in out
    assert calls(site) == []
