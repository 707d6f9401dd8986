"""The internal CA as roles/pki creates it (tasks/ca_create.yml run on the controller with
community.crypto, as ca.yml and the rollover include it): a CA that signs hosts only
(pathlen:0, critical), and the optional name constraints a stolen CA key cannot sign around."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from cryptography import x509

from helpers import run_playbook

PLAY = """
- name: Create a CA as roles/pki does
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: The CA tasks of the role
      ansible.builtin.include_role:
        name: pki
        tasks_from: ca_create.yml
"""


def make_ca(tmp_path: Path, constraints: list[str]) -> x509.Certificate:
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    extra = {"_pki_new_ca_key": str(tmp_path / "ca.key"), "_pki_new_ca_cert": str(tmp_path / "ca.crt"),
             "_pki_ca_passphrase": "test-passphrase-0123456789", "platform_environment": "unit",
             "pki_ca_name_constraints_permitted": constraints, "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    result = run_playbook(str(tmp_path / "play.yml"), "localhost,", "-e", json.dumps(extra))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())


@pytest.fixture(scope="module")
def plain_ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("plain"), [])


def test_the_ca_signs_hosts_only(plain_ca):
    constraints = plain_ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = plain_ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert plain_ca.subject.rfc4514_string() == "CN=FOSS Data Platform unit CA"


def test_no_name_constraints_unless_asked(plain_ca):
    with pytest.raises(x509.ExtensionNotFound):
        plain_ca.extensions.get_extension_for_class(x509.NameConstraints)


def test_name_constraints_are_written_critical(tmp_path):
    ca = make_ca(tmp_path, ["DNS:.corp.example", "IP:10.20.0.0/255.255.0.0"])
    extension = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert extension.critical
    assert set(extension.value.permitted_subtrees) == {x509.DNSName(".corp.example"),
                                                       x509.IPAddress(ipaddress.ip_network("10.20.0.0/16"))}
    assert extension.value.excluded_subtrees is None
