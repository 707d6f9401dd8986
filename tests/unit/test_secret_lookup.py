"""The one credentials mechanism (lookup fdp_secret) as a playbook uses it: generated once per
name (per host where declared so), the site's value when it supplies one, a clear error for an
undeclared name or a too-short supplied value."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import yaml

from helpers import run_playbook

PLAYBOOK = """
- name: Ask for secrets by name
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Write what each name gives this host
      ansible.builtin.copy:
        content: "{{ {'metrics': lookup('fdp_secret', 'metrics_password'),
                      'keystore': lookup('fdp_secret', 'keystore_password'),
                      'salt': lookup('fdp_secret', 'bcrypt_salt/prometheus/admin')} | to_json }}"
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        mode: "0600"
      no_log: true
"""
INVENTORY = """
all:
  hosts:
    h1: {}
    h2: {}
"""


def run(tmp_path: Path, extra: dict | None = None, playbook: str = PLAYBOOK):
    inv = tmp_path / "inv"
    inv.mkdir(exist_ok=True)
    (inv / "hosts.yml").write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    (tmp_path / "play.yml").write_text(playbook, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    variables = {"out": str(out), "platform_credentials_dir": str(tmp_path / "credentials"),
                 "ansible_python_interpreter": "{{ ansible_playbook_python }}", **(extra or {})}
    # The registry is the platform's own (role defaults): load it as a vars file.
    registry = yaml.safe_load((Path(__file__).resolve().parents[2] / "roles/platform/defaults/main/credentials.yml")
                              .read_text())
    (tmp_path / "vars.yml").write_text(yaml.safe_dump({**registry, **variables}), encoding="utf-8")
    result = run_playbook(str(tmp_path / "play.yml"), inv, "-e", f"@{tmp_path / 'vars.yml'}")
    return result, {h: json.loads((out / f"{h}.json").read_text()) for h in ("h1", "h2") if (out / f"{h}.json").exists()}


def test_generated_once_per_name_per_host_where_declared(tmp_path):
    result, first = run(tmp_path)
    assert result.returncode == 0, result.stdout
    creds = tmp_path / "credentials"
    assert first["h1"]["metrics"] == first["h2"]["metrics"] == (creds / "metrics_password").read_text().split()[0]
    assert len(first["h1"]["metrics"]) == 32 and first["h1"]["metrics"].isalnum()
    # keystore passwords are per host
    assert first["h1"]["keystore"] != first["h2"]["keystore"]
    assert (creds / "hosts" / "h2" / "keystore_password").read_text().split()[0] == first["h2"]["keystore"]
    # a family member: its own file, bcrypt's alphabet, 22 characters
    salt = first["h1"]["salt"]
    assert len(salt) == 22 and set(salt) <= set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    assert (creds / "bcrypt_salt" / "prometheus" / "admin").is_file()
    assert oct((creds / "metrics_password").stat().st_mode & 0o777) == "0o600"
    # a second run gives the same values
    _, second = run(tmp_path)
    assert second == first


def test_a_supplied_secret_wins_and_must_be_long_enough(tmp_path):
    result, got = run(tmp_path, {"platform_secrets": {"metrics_password": "supplied-from-vault-0123456789"}})
    assert result.returncode == 0, result.stdout
    assert got["h1"]["metrics"] == "supplied-from-vault-0123456789"
    assert not (tmp_path / "credentials" / "metrics_password").exists()
    short = tmp_path / "short"
    short.mkdir()
    result, _ = run(short, {"platform_secrets": {"metrics_password": "short"}})
    assert result.returncode != 0
    assert "platform_secrets.metrics_password is shorter than 16 characters" in result.stdout


def test_an_undeclared_name_is_an_error_with_a_suggestion(tmp_path):
    playbook = PLAYBOOK.replace("lookup('fdp_secret', 'metrics_password')", "lookup('fdp_secret', 'metric_password')")
    result, _ = run(tmp_path, playbook=playbook)
    assert result.returncode != 0
    assert "'metric_password' is not declared in platform_credentials (did you mean 'metrics_password'?)" in result.stdout


JWT_PLAYBOOK = """
- name: Ask for a derived secret
  hosts: h1
  connection: local
  gather_facts: false
  tasks:
    - name: Write the token and what it is derived from
      ansible.builtin.copy:
        content: "{{ {'token': lookup('fdp_secret', 'minio_prometheus_token'),
                      'user': lookup('fdp_secret', 'minio_root_user'),
                      'key': lookup('fdp_secret', 'minio_root_password')} | to_json }}"
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        mode: "0600"
      no_log: true
"""


def test_the_minio_metrics_token_is_a_jwt_derived_from_the_root_credentials(tmp_path):
    import base64
    import hashlib
    import hmac

    result, values = run(tmp_path, playbook=JWT_PLAYBOOK)
    assert result.returncode == 0, result.stdout
    token, user, key = values["h1"]["token"], values["h1"]["user"], values["h1"]["key"]
    header, payload, signature = token.split(".")

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    assert json.loads(decode(header)) == {"alg": "HS512", "typ": "JWT"}
    assert json.loads(decode(payload)) == {"exp": 4102444800, "iss": "prometheus", "sub": user}
    assert decode(signature) == hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha512).digest()
    # derived, never stored; the same on the next run
    assert not (tmp_path / "credentials" / "minio_prometheus_token").exists()
    _, again = run(tmp_path, playbook=JWT_PLAYBOOK)
    assert again["h1"]["token"] == token
