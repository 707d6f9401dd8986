"""Filters over the endpoint registry (platform_endpoints, roles/platform/defaults/main/
endpoints.yml): the Prometheus scrape jobs it implies, and the table printed at the end of every
site.yml run (URL, login, which credentials file, which CA).

Pure functions, unit-tested in tests/unit/test_endpoint_filters.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

try:
    from ansible.errors import AnsibleFilterError as EndpointError
except ImportError:  # pragma: no cover
    class EndpointError(Exception):  # type: ignore[no-redef]
        """An endpoint declaration is wrong."""

AUDIENCES = ("admin", "client", "internal")
AUTHS = ("basic", "password", "bearer", "client-cert", "none")
_FIELDS = ("group", "port", "audience", "auth")


def _check(name: str, endpoint: Mapping[str, Any]) -> None:
    missing = [f for f in _FIELDS if not endpoint.get(f)]
    if missing:
        raise EndpointError(f"platform_endpoints.{name}: missing {', '.join(missing)}")
    if endpoint["audience"] not in AUDIENCES:
        raise EndpointError(f"platform_endpoints.{name}.audience must be one of {', '.join(AUDIENCES)}")
    if endpoint["auth"] not in AUTHS:
        raise EndpointError(f"platform_endpoints.{name}.auth must be one of {', '.join(AUTHS)}")


def enabled(endpoint: Mapping[str, Any]) -> bool:
    """An endpoint is deployed unless its `enabled` says otherwise (e.g. a metrics agent a site
    turned off)."""
    return str(endpoint.get("enabled", True)).lower() not in ("false", "no", "0")


def metrics_jobs(endpoints: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """platform_metrics_jobs from the enabled endpoints that declare `metrics`: one job per metrics.job,
    a target per endpoint (group, port, role), the job's scheme, path and auth from its first
    endpoint (the endpoints of one job must agree)."""
    jobs: dict[str, dict[str, Any]] = {}
    for name in sorted(endpoints):
        endpoint = endpoints[name]
        metrics = endpoint.get("metrics")
        if not metrics or not enabled(endpoint):
            continue
        _check(name, endpoint)
        job = {"scheme": endpoint.get("scheme", "https"), "metrics_path": metrics.get("path", "/metrics"),
               "auth": metrics.get("auth", "basic")}
        for key in ("user", "credential"):
            if metrics.get(key):
                job[key] = metrics[key]
        target = {"group": endpoint["group"], "port": endpoint["port"]}
        if metrics.get("role"):
            target["role"] = metrics["role"]
        existing = jobs.get(metrics["job"])
        if existing is None:
            jobs[metrics["job"]] = dict(job, targets=[target])
            continue
        clash = {k: (existing.get(k), v) for k, v in job.items() if existing.get(k) != v}
        if clash:
            raise EndpointError(f"platform_endpoints.{name}: job {metrics['job']} disagrees with its other endpoints on "
                                f"{', '.join(sorted(clash))}")
        existing["targets"].append(target)
    return jobs


def _members(group: str, groups: Mapping[str, Iterable[str]]) -> list[str]:
    return list(groups.get("all" if group == "all" else group, ()) or ())


def endpoint_rows(endpoints: Mapping[str, Mapping[str, Any]], groups: Mapping[str, Iterable[str]],
                  hostvars: Mapping[str, Mapping[str, Any]], ports: Mapping[str, Mapping[str, Any]],
                  audiences: Iterable[str] = ("admin", "client")) -> list[dict[str, Any]]:
    """The deployed endpoints of the given audiences, one row per host: name, host, URL, auth,
    user and credential."""
    rows = []
    for name in sorted(endpoints):
        endpoint = endpoints[name]
        _check(name, endpoint)
        if endpoint["audience"] not in audiences or not enabled(endpoint):
            continue
        if endpoint["port"] not in ports:
            raise EndpointError(f"platform_endpoints.{name}: port '{endpoint['port']}' is not in platform_ports")
        port = ports[endpoint["port"]]["port"]
        for host in _members(endpoint["group"], groups):
            address = str(hostvars.get(host, {}).get("ansible_host") or host)
            host_part = f"[{address}]" if ":" in address else address
            rows.append({
                "name": name, "host": host, "audience": endpoint["audience"], "auth": endpoint["auth"],
                "url": f"{endpoint.get('scheme', 'https')}://{host_part}:{port}{endpoint.get('path', '/')}",
                "user": endpoint.get("user", ""), "credential": endpoint.get("credential", ""),
                "description": endpoint.get("description", ""),
            })
    return rows


def endpoint_table(endpoints: Mapping[str, Mapping[str, Any]], groups: Mapping[str, Iterable[str]],
                   hostvars: Mapping[str, Mapping[str, Any]], ports: Mapping[str, Mapping[str, Any]],
                   credentials_dir: str, ca_file: str, supplied: Iterable[str] = (),
                   internal: int | None = None) -> list[str]:
    """The lines printed at the end of a site.yml run: each deployed admin/client endpoint with
    its URL and how to log in (user, and the credentials file or 'platform_secrets' for a
    secret the site supplies), then the CA to verify them with."""
    rows = endpoint_rows(endpoints, groups, hostvars, ports)
    supplied = set(supplied or ())
    if not rows:
        return ["No published endpoints in this inventory."]
    width = max(len(r["name"]) for r in rows)
    url_width = max(len(r["url"]) for r in rows)
    lines = []
    for row in rows:
        if row["auth"] == "none":
            login = "no login"
        elif row["auth"] == "client-cert":
            login = "client certificate of the platform CA"
        else:
            where = ("platform_secrets." + row["credential"] if row["credential"] in supplied
                     else f"{credentials_dir.rstrip('/')}/{row['credential']}") if row["credential"] else "-"
            login = f"user {row['user'] or '-'}, password {where}"
        lines.append(f"{row['name']:<{width}}  {row['url']:<{url_width}}  {login}")
    lines.append(f"Verify TLS with the platform CA: {ca_file}")
    if internal:
        lines.append(f"({internal} internal endpoints, metrics and component traffic, are not listed.)")
    return lines


def internal_count(endpoints: Mapping[str, Mapping[str, Any]], groups: Mapping[str, Iterable[str]],
                   hostvars: Mapping[str, Mapping[str, Any]], ports: Mapping[str, Mapping[str, Any]]) -> int:
    return len(endpoint_rows(endpoints, groups, hostvars, ports, audiences=("internal",)))


class FilterModule:
    """fdp_metrics_jobs, fdp_endpoint_rows, fdp_endpoint_table, fdp_endpoint_internal_count."""

    def filters(self):
        return {
            "fdp_metrics_jobs": metrics_jobs,
            "fdp_endpoint_rows": endpoint_rows,
            "fdp_endpoint_table": endpoint_table,
            "fdp_endpoint_internal_count": internal_count,
        }
