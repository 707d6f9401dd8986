"""Filters of the observability roles: scrape targets from the inventory, scrape configs,
exporter-toolkit web configs with bcrypt hashes that are stable between runs.

Pure functions over plain data, unit-tested in tests/unit/test_monitoring_filters.py.

Scrape jobs (platform_metrics_jobs) look like::

    node:
      targets: [{group: all, port: node_exporter, role: node}]
      scheme: https            # http only for the documented plaintext allowlist
      metrics_path: /metrics
      auth: basic              # basic (the platform's scrape user) | bearer | none
      credential: ""           # bearer: name of a file in platform_credentials_dir
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

_BCRYPT = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_AUTH = ("basic", "bearer", "none")


def bcrypt_hash(password: str, salt: str, cost: int = 10) -> str:
    """bcrypt hash of `password` with a given 22-character salt (bcrypt's base64 alphabet).

    The salt is random and kept per user in the credentials store (fdp_secret
    bcrypt_salt/<service>/<user>): the rendered file is stable between runs and changes only
    with the password, and the salt, which sits in the clear inside the hash, reveals nothing
    about the password (a salt derived from it would be a fast, unsalted check of any guess)."""
    import bcrypt  # imported here: only the controller needs it, and only when hashing

    if not password:
        raise AnsibleFilterError("fdp_bcrypt: empty password")
    if not 4 <= int(cost) <= 31:
        raise AnsibleFilterError(f"fdp_bcrypt: cost {cost} is outside 4..31")
    salt = str(salt)
    if len(salt) != 22 or salt.strip(_BCRYPT):
        raise AnsibleFilterError("fdp_bcrypt: the salt must be 22 characters of ./A-Za-z0-9")
    # 22 characters carry 132 bits; bcrypt uses 128 and rejects a last character with the
    # 4 unused bits set: clear them.
    salt = salt[:21] + _BCRYPT[_BCRYPT.index(salt[21]) & 0x30]
    return bcrypt.hashpw(password.encode(), f"$2b${int(cost):02d}${salt}".encode()).decode()


def web_config(users: dict[str, str], cert_file: str, key_file: str, salts: dict[str, str] | None = None,
               client_ca_file: str = "", cost: int = 10) -> dict[str, Any]:
    """An exporter-toolkit web config (Prometheus, Alertmanager, node_exporter): TLS with the
    host certificate, TLS 1.2 or newer, and HTTP basic auth for each user (bcrypt hashes, each
    with the user's salt from `salts`)."""
    if not users:
        raise AnsibleFilterError("fdp_web_config: at least one user is required")
    missing = sorted(set(users) - set(salts or {}))
    if missing:
        raise AnsibleFilterError(f"fdp_web_config: no salt for {', '.join(missing)}")
    tls: dict[str, Any] = {"cert_file": cert_file, "key_file": key_file, "min_version": "TLS12"}
    if client_ca_file:
        tls.update(client_ca_file=client_ca_file, client_auth_type="RequireAndVerifyClientCert")
    return {
        "tls_server_config": tls,
        "basic_auth_users": {name: bcrypt_hash(pw, salts[name], cost) for name, pw in sorted(users.items())},
    }


def _address(hostvars: dict, host: str) -> str:
    return str(hostvars.get(host, {}).get("ansible_host") or host)


def addresses(hosts: list[str], hostvars: dict) -> list[str]:
    """The address of each host: its ansible_host, else its inventory name."""
    return [_address(hostvars, host) for host in hosts]


def _job_hosts(target: dict, groups: dict) -> list[str]:
    return list(groups.get(target["group"], []) or [])


def _check_job(name: str, job: dict, ports: dict) -> None:
    if not isinstance(job, dict) or not job.get("targets"):
        raise AnsibleFilterError(f"platform_metrics_jobs.{name}: needs a non-empty 'targets' list")
    if job.get("auth", "basic") not in _AUTH:
        raise AnsibleFilterError(f"platform_metrics_jobs.{name}.auth must be one of {', '.join(_AUTH)}")
    if job.get("scheme", "https") not in ("http", "https"):
        raise AnsibleFilterError(f"platform_metrics_jobs.{name}.scheme must be http or https")
    if job.get("auth") == "bearer" and not job.get("credential"):
        raise AnsibleFilterError(f"platform_metrics_jobs.{name}: auth bearer needs 'credential'")
    if job.get("auth", "basic") == "basic" and bool(job.get("user")) != bool(job.get("credential")):
        raise AnsibleFilterError(f"platform_metrics_jobs.{name}: auth basic takes 'user' and 'credential' together "
                                 "(neither: the scrape user)")
    for target in job["targets"]:
        if "group" not in target or "port" not in target:
            raise AnsibleFilterError(f"platform_metrics_jobs.{name}: every target needs 'group' and 'port'")
        if target["port"] not in ports:
            raise AnsibleFilterError(
                f"platform_metrics_jobs.{name}: port '{target['port']}' is not a key of platform_ports")


def scrape_targets(jobs: dict, groups: dict, hostvars: dict, ports: dict) -> dict[str, list[dict]]:
    """File-SD target groups per job, from the inventory: one group per host and role, with the
    labels host (inventory name), role (inventory group, or the target's `role`) and instance
    (<host>:<port>). Jobs without hosts are left out."""
    result: dict[str, list[dict]] = {}
    for name in sorted(jobs):
        job = jobs[name]
        _check_job(name, job, ports)
        entries = []
        for target in job["targets"]:
            port = ports[target["port"]]["port"]
            role = target.get("role", target["group"])
            for host in sorted(_job_hosts(target, groups)):
                entries.append({
                    "targets": [f"{_address(hostvars, host)}:{port}"],
                    "labels": {"host": host, "role": role, "instance": f"{host}:{port}"},
                })
        if entries:
            result[name] = entries
    return result


def scrape_configs(targets: dict, jobs: dict, sd_dir: str, ca_file: str, username: str,
                   password_file: str, credentials_dir: str) -> list[dict]:
    """Prometheus scrape_configs for the jobs that have targets (file SD, one file per job)."""
    configs = []
    for name in sorted(targets):
        job = jobs[name]
        scheme = job.get("scheme", "https")
        config: dict[str, Any] = {
            "job_name": name,
            "scheme": scheme,
            "metrics_path": job.get("metrics_path", "/metrics"),
            "file_sd_configs": [{"files": [f"{sd_dir}/{name}.yml"]}],
        }
        if job.get("scrape_interval"):
            config["scrape_interval"] = job["scrape_interval"]
        if scheme == "https":
            config["tls_config"] = {"ca_file": ca_file}
        auth = job.get("auth", "basic")
        if auth == "basic" and job.get("user"):
            config["basic_auth"] = {"username": job["user"],
                                    "password_file": f"{credentials_dir}/{job['credential']}"}
        elif auth == "basic":
            config["basic_auth"] = {"username": username, "password_file": password_file}
        elif auth == "bearer":
            config["authorization"] = {"type": "Bearer",
                                       "credentials_file": f"{credentials_dir}/{job['credential']}"}
        configs.append(config)
    return configs


def scrape_credentials(targets: dict, jobs: dict) -> list[str]:
    """Names of the credential files the jobs with targets need besides the scrape user's: a
    bearer token, or the password of a job's own basic-auth user."""
    return sorted({jobs[n]["credential"] for n in targets
                   if jobs[n].get("auth", "basic") in ("basic", "bearer") and jobs[n].get("credential")})


class FilterModule:
    def filters(self):
        return {
            "fdp_bcrypt": bcrypt_hash,
            "fdp_web_config": web_config,
            "fdp_scrape_targets": scrape_targets,
            "fdp_scrape_configs": scrape_configs,
            "fdp_scrape_credentials": scrape_credentials,
            "fdp_addresses": addresses,
        }
