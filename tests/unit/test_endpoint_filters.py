"""The endpoint registry: the scrape jobs it implies (exactly the jobs the platform scraped
when they were written by hand), the end-of-run table, and the health probes it fills in."""

from __future__ import annotations

import pytest
import yaml

from fdp_endpoints import EndpointError, endpoint_rows, endpoint_table, internal_count, metrics_jobs
from fdp_services import ServiceError, probe
from helpers import REPO, platform_default

PLATFORM = REPO / "roles" / "platform" / "defaults" / "main"
ENDPOINTS = platform_default("endpoints", "platform_endpoints")
PORTS = yaml.safe_load((PLATFORM / "ports.yml").read_text())["platform_ports"]
GROUPS = {"all": ["mon1", "fl1", "fl2"], "prometheus": ["mon1"], "grafana": ["mon1"],
          "flink_jobmanager": ["fl1"], "flink_taskmanager": ["fl2"]}
HOSTVARS = {"mon1": {"ansible_host": "10.0.0.1"}, "fl1": {"ansible_host": "10.0.0.2"}, "fl2": {}}


def test_jobs_from_the_registry_are_the_platforms_scrape_jobs():
    jobs = metrics_jobs(ENDPOINTS)
    assert set(jobs) == {"node", "prometheus", "alertmanager", "grafana", "flink", "kafka", "hive_metastore",
                         "postgresql", "trino", "minio", "seaweedfs"}
    assert jobs["node"] == {"scheme": "https", "metrics_path": "/metrics", "auth": "basic",
                            "targets": [{"group": "all", "port": "node_exporter", "role": "node"}]}
    # Flink: the JMX exporter agent (HTTPS, the scrape user) unless flink_jmx_exporter is false
    assert jobs["flink"] == {"scheme": "https", "metrics_path": "/metrics", "auth": "basic",
                             "targets": [{"group": "flink_jobmanager", "port": "flink_jobmanager_metrics"},
                                         {"group": "flink_taskmanager", "port": "flink_taskmanager_metrics"}]}
    fallback = metrics_jobs(platform_default("endpoints", "platform_endpoints", flink_jmx_exporter=False))["flink"]
    assert fallback["scheme"] == "http" and fallback["auth"] == "none"
    assert fallback["targets"] == jobs["flink"]["targets"]
    assert jobs["minio"] == {"scheme": "https", "metrics_path": "/minio/v2/metrics/cluster", "auth": "bearer",
                             "credential": "minio_prometheus_token",
                             "targets": [{"group": "minio", "port": "minio_api"}]}
    for job in jobs.values():
        for target in job["targets"]:
            assert target["port"] in PORTS


def test_disabled_endpoints_are_not_scraped():
    endpoints = {"a": {"group": "g", "port": "p", "audience": "internal", "auth": "none", "metrics": {"job": "j"}},
                 "b": {"group": "h", "port": "q", "audience": "internal", "auth": "none", "enabled": "False",
                       "metrics": {"job": "k"}},
                 "c": {"group": "h", "port": "r", "audience": "internal", "auth": "none", "enabled": False,
                       "metrics": {"job": "j"}}}
    jobs = metrics_jobs(endpoints)
    assert set(jobs) == {"j"} and jobs["j"]["targets"] == [{"group": "g", "port": "p"}]


def test_endpoints_of_one_job_must_agree():
    endpoints = {"a": {"group": "g", "port": "p", "audience": "internal", "auth": "none", "metrics": {"job": "j"}},
                 "b": {"group": "h", "port": "p", "audience": "internal", "auth": "none", "scheme": "http",
                       "metrics": {"job": "j"}}}
    with pytest.raises(EndpointError, match="disagrees .* on scheme"):
        metrics_jobs(endpoints)
    with pytest.raises(EndpointError, match="audience"):
        metrics_jobs({"a": dict(endpoints["a"], audience="everyone")})


def test_rows_are_the_deployed_published_endpoints():
    rows = endpoint_rows(ENDPOINTS, GROUPS, HOSTVARS, PORTS)
    assert [(r["name"], r["host"], r["url"]) for r in rows] == [
        ("flink", "fl1", "https://10.0.0.2:8081/"),
        ("grafana", "mon1", "https://10.0.0.1:3000/"),
        ("prometheus", "mon1", "https://10.0.0.1:9090/"),
    ]
    assert internal_count(ENDPOINTS, GROUPS, HOSTVARS, PORTS) == 5  # 3 node_exporters, 2 Flink metrics agents
    # declared but not served (e.g. Grafana without its binary): not listed
    off = dict(ENDPOINTS, grafana=dict(ENDPOINTS["grafana"], enabled=False))
    assert "grafana" not in [r["name"] for r in endpoint_rows(off, GROUPS, HOSTVARS, PORTS)]


def test_table_says_where_each_password_is_and_which_ca():
    lines = endpoint_table(ENDPOINTS, GROUPS, HOSTVARS, PORTS, "/inv/credentials/", "/inv/pki/ca.crt",
                           supplied=["grafana_admin_password"], internal=5)
    text = "\n".join(lines)
    assert "prometheus  https://10.0.0.1:9090/  user admin, password /inv/credentials/prometheus_admin_password" in text
    assert "user admin, password platform_secrets.grafana_admin_password" in text
    assert "flink       https://10.0.0.2:8081/  no login" in text
    assert lines[-2] == "Verify TLS with the platform CA: /inv/pki/ca.crt"
    assert "5 internal endpoints" in lines[-1]
    assert endpoint_table({}, {}, {}, {}, "/c", "/ca") == ["No published endpoints in this inventory."]


def test_health_probes_take_port_path_and_login_from_the_registry():
    unit = {"name": "prometheus", "health": {"endpoint": "prometheus", "path": "/-/ready"}}
    got = probe(unit, "mon1", HOSTVARS, PORTS, ENDPOINTS, "scraper")
    assert got["url"] == "https://10.0.0.1:9090/-/ready"
    assert got["user"] == "admin" and got["credential"] == "prometheus_admin_password"
    node = probe({"name": "node_exporter", "health": {"endpoint": "node_exporter"}}, "fl2", HOSTVARS, PORTS,
                 ENDPOINTS, "scraper")
    assert node["url"] == "https://fl2:9100/metrics" and node["user"] == "scraper"
    assert "user" not in probe({"health": {"endpoint": "grafana"}}, "mon1", HOSTVARS, PORTS, ENDPOINTS)
    with pytest.raises(ServiceError, match="not in platform_endpoints"):
        probe({"health": {"endpoint": "nope"}}, "mon1", HOSTVARS, PORTS, ENDPOINTS)
