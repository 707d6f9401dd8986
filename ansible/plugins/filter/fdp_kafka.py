"""Kafka (KRaft) decisions of roles/kafka as pure functions: node ids from the inventory, the quorum
and listener/security map of each process, sizing from host facts, the cluster and directory ids in
Kafka's own form, the storage format plan, and the desired state of SCRAM users, ACLs and topics
with the diff against what Kafka's tools report (their output parsed here).

Upstream references (Kafka 4.2, the pinned version; see docs/components/kafka.md):
- KRaft: https://kafka.apache.org/42/operations/kraft/ (process roles, controller.quorum.bootstrap.servers,
  kafka-storage.sh format --initial-controllers / --no-initial-controllers, kafka-metadata-quorum.sh)
- Listeners: https://kafka.apache.org/42/security/listener-configuration/ (controller listener separate
  from the inter-broker listener, both defined on brokers)
- ACLs: https://kafka.apache.org/42/security/authorization-and-acls/ (StandardAuthorizer on every node,
  super.users separated by ';', ssl.principal.mapping.rules)
- Java: https://kafka.apache.org/42/operations/java-version/ (-Xmx6g -Xms6g and the G1 flags)
- Hardware: https://kafka.apache.org/42/operations/hardware-and-os/ (file descriptors, page cache,
  "Lag" and "LastFetchTimestamp"/"LastCaughtUpTimestamp" of a caught-up controller)

The output formats parsed here are those of the 4.x tools: kafka-acls.sh --list (AclCommand),
kafka-topics.sh --describe (TopicCommand), kafka-configs.sh --describe (ConfigCommand),
kafka-metadata-quorum.sh describe --status (MetadataQuorumCommand), kafka-broker-api-versions.sh
(BrokerApiVersionsCommand). Unit-tested with hand-written samples in tests/unit/test_kafka_filters.py.
"""

from __future__ import annotations

import base64
import importlib.util
import ipaddress
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

try:  # inside Ansible: errors surface as clean task failures
    from ansible.errors import AnsibleFilterError as KafkaError
except ImportError:  # pragma: no cover - tests without Ansible
    class KafkaError(Exception):  # type: ignore[no-redef]
        """A Kafka setting or inventory is invalid; the message says what to change."""

# --- constants --------------------------------------------------------------------------------
CONTROLLER = "CONTROLLER"
BROKER = "BROKER"
CLIENT = "CLIENT"
SCRAM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192  # SCRAM-SHA-512's minimum is 4096 (ScramMechanism); upstream's examples use 8192
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
# The pki role issues host certificates with the subject CN=<inventory_hostname>; Kafka sees the
# RFC 2253 form (X500Principal.getName()), so "CN=pl1" (or "CN=pl1,O=..." from a site's own CA).
PRINCIPAL_MAPPING = "RULE:^CN=([^,]+)(,.*)?$/$1/,DEFAULT"
CONTROLLER_ID_BASE = 3000  # derived controller ids 3000, 3001, ... (upstream's own examples)
MAX_NODE_ID = 2**31 - 1
HEAP_CAP_MB = 6144  # upstream's -Xmx6g: the rest of the RAM is page cache
TOOL_HEAP = "-Xms64m -Xmx256m"
# Upstream's recommended G1 settings (operations/java-version), less the heap and region size,
# which sizing() adds; ExitOnOutOfMemoryError lets systemd restart a broken JVM.
JVM_FLAGS = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
             "-XX:+ExplicitGCInvokesConcurrent", "-XX:MetaspaceSize=96m", "-XX:MinMetaspaceFreeRatio=50",
             "-XX:MaxMetaspaceFreeRatio=80", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"]

# ACL vocabulary: resource types with their kafka-acls.sh option, operations and permissions as the
# tool prints them (enum names) and accepts them (PascalCase, SecurityUtils.operationName).
RESOURCES = {"topic": ("TOPIC", "--topic"), "group": ("GROUP", "--group"), "cluster": ("CLUSTER", "--cluster"),
             "transactional_id": ("TRANSACTIONAL_ID", "--transactional-id"),
             "delegation_token": ("DELEGATION_TOKEN", "--delegation-token"), "user": ("USER", "--user-principal")}
OPERATIONS = ("READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS",
              "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS", "ALL")
PATTERNS = ("LITERAL", "PREFIXED")
PERMISSIONS = ("ALLOW", "DENY")
CLUSTER_NAME = "kafka-cluster"
_TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")
_USER_NAME = re.compile(r"[A-Za-z0-9._@-]{1,128}")

# Keys the platform owns in server.properties (overrides of them are preflight errors), with the
# variable to change instead.
RESERVED = {
    "process.roles": "the kafka_controller and kafka_broker groups decide each process's role",
    "node.id": "derived from the inventory; pin it with kafka_controller_node_id / kafka_broker_node_id",
    "controller.quorum.bootstrap.servers": "the kafka_controller group",
    "controller.quorum.voters": "this platform runs a dynamic quorum (controller.quorum.bootstrap.servers)",
    "controller.listener.names": "listeners are the platform's (CONTROLLER, BROKER, CLIENT)",
    "listeners": "listeners are the platform's; ports come from platform_ports",
    "advertised.listeners": "listeners are the platform's; addresses come from ansible_host",
    "listener.security.protocol.map": "TLS everywhere: SSL for CONTROLLER and BROKER, SASL_SSL for CLIENT",
    "inter.broker.listener.name": "brokers replicate over BROKER (mutual TLS)",
    "security.inter.broker.protocol": "brokers replicate over BROKER (mutual TLS)",
    "sasl.enabled.mechanisms": "clients authenticate with SCRAM-SHA-512",
    "authorizer.class.name": "StandardAuthorizer on every node",
    "super.users": "the hosts' certificates and kafka_admin_user",
    "allow.everyone.if.no.acl.found": "no ACL means no access; declare kafka_acls",
    "ssl.principal.mapping.rules": "certificate subjects CN=<host> map to User:<host>",
    "ssl.client.auth": "mutual TLS on CONTROLLER and BROKER",
    "ssl.endpoint.identification.algorithm": "peers verify host names (https)",
    "log.dirs": "set kafka_log_dirs (brokers) or kafka_controller_log_dir",
    "metadata.log.dir": "set kafka_log_dirs (brokers) or kafka_controller_log_dir",
}
RESERVED_PATTERNS = [(re.compile(r"ssl\.(keystore|truststore|key)\..+|ssl\.key\.password"),
                      "TLS from the platform PKI (platform_tls_dir keystores)"),
                     (re.compile(r"listener\.name\..+"), "listeners are the platform's")]


# --- small helpers ------------------------------------------------------------------------------
def _fail(message: str) -> None:
    raise KafkaError(message)


def _address(host: str, hostvars: Mapping[str, Any]) -> str:
    return str((hostvars.get(host) or {}).get("ansible_host") or host)


def _endpoint(address: str, port: int) -> str:
    """host:port, an IPv6 address in brackets."""
    try:
        if ipaddress.ip_address(address).version == 6:
            return f"[{address}]:{int(port)}"
    except ValueError:
        pass
    return f"{address}:{int(port)}"


def _clamp(value: float, low: float, high: float) -> int:
    return int(max(low, min(high, value)))


def _round(mb: int) -> int:
    """A computed heap in whole 64 MiB steps (stable across small differences of MemTotal)."""
    return max(256, mb - mb % 64)


_config_module: Any = None


def _config():
    """fdp_config.py beside this file (the shared settings and key-catalog checks), loaded by path:
    Ansible does not put the filter directory on sys.path."""
    global _config_module
    if _config_module is None:
        path = Path(__file__).with_name("fdp_config.py")
        spec = importlib.util.spec_from_file_location("_fdp_config_for_kafka", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _config_module = module
    return _config_module


# --- ids ----------------------------------------------------------------------------------------
_METADATA_TOPIC_ID = bytes(15) + b"\x01"


def kafka_uuid(value: Any) -> str:
    """A Kafka Uuid as kafka-storage.sh random-uuid prints it (Uuid.toString: 16 bytes in URL-safe
    base64 without padding, 22 characters) from either 32 hex digits (how the credentials store
    generates it) or an existing 22-character Kafka Uuid (a site's cluster id). The hex form is
    mapped so that the id never starts with '-' (Uuid.randomUuid avoids those, they read as options)."""
    text = str(value).strip()
    if re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raw = bytearray(bytes.fromhex(text))
        raw[0] &= 0x7F  # the first base64 character then is A-Z or a-f
        raw = bytes(raw)
        uuid = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    elif re.fullmatch(r"[A-Za-z0-9_-]{22}", text):
        raw = base64.urlsafe_b64decode(text + "==")
        uuid = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        if uuid != text:
            _fail(f"'{text}' is not a Kafka Uuid in canonical form (kafka-storage.sh random-uuid prints one)")
        if text.startswith("-"):
            _fail(f"'{text}' starts with '-': Kafka's tools would read it as an option; generate another")
    else:
        _fail(f"'{text}' is neither 32 hex digits nor a 22-character Kafka Uuid")
    if raw in (bytes(16), _METADATA_TOPIC_ID):
        _fail(f"'{text}' is a Uuid Kafka reserves (zero or the metadata topic id)")
    return uuid


def node_ids(controllers: Iterable[str], brokers: Iterable[str],
             hostvars: Mapping[str, Any] | None = None) -> dict[str, dict[str, int | None]]:
    """{host: {controller: id | None, broker: id | None}}. Brokers get their position in the
    kafka_broker group + 1, controllers 3000 + their position in kafka_controller, unless the host
    pins one (host vars kafka_broker_node_id / kafka_controller_node_id >= 0). A host in both
    groups runs two processes with two ids (node.id is unique per process in KRaft)."""
    hostvars = hostvars or {}
    ids: dict[str, dict[str, int | None]] = {}
    for kind, members, derive in (("controller", list(controllers), lambda i: CONTROLLER_ID_BASE + i),
                                  ("broker", list(brokers), lambda i: i + 1)):
        for index, host in enumerate(members):
            pinned = (hostvars.get(host) or {}).get(f"kafka_{kind}_node_id", -1)
            try:
                pinned = int(pinned)
            except (TypeError, ValueError):
                _fail(f"host {host}: kafka_{kind}_node_id must be an integer, got {pinned!r}")
            entry = ids.setdefault(host, {"controller": None, "broker": None})
            entry[kind] = pinned if pinned >= 0 else derive(index)
    return ids


def node_id_errors(ids: Mapping[str, Mapping[str, int | None]]) -> list[str]:
    """Every node id must be unique across controllers and brokers, and fit an int32."""
    seen: dict[int, str] = {}
    errors = []
    for host in sorted(ids):
        for kind in ("controller", "broker"):
            node = ids[host].get(kind)
            if node is None:
                continue
            if not 0 <= node <= MAX_NODE_ID:
                errors.append(f"host {host}: {kind} node id {node} is outside 0..{MAX_NODE_ID}")
            what = f"the {kind} on {host}"
            if node in seen:
                errors.append(f"node id {node} is given to both {seen[node]} and {what}: pin distinct ids with "
                              "kafka_controller_node_id / kafka_broker_node_id")
            else:
                seen[node] = what
    return errors


def quorum_bootstrap(controllers: Iterable[str], hostvars: Mapping[str, Any], port: int) -> str:
    """controller.quorum.bootstrap.servers: every controller's address and controller port."""
    return ",".join(_endpoint(_address(h, hostvars), port) for h in controllers)


def initial_controllers(controllers: Iterable[str], hostvars: Mapping[str, Any], port: int,
                        ids: Mapping[str, Mapping[str, Any]], directory_ids: Mapping[str, str]) -> str:
    """kafka-storage.sh format --initial-controllers: id@host:port:directory-id of every controller,
    the same string on every controller (upstream: "the same values must be used to format all nodes")."""
    parts = []
    for host in controllers:
        parts.append(f"{ids[host]['controller']}@{_endpoint(_address(host, hostvars), port)}:"
                     f"{kafka_uuid(directory_ids[host])}")
    return ",".join(parts)


# --- listeners and security --------------------------------------------------------------------
def listener_settings(role: str, address: str, ports: Mapping[str, Mapping[str, Any]],
                      controllers: Iterable[str] = (), hostvars: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The listener/security map of one process. Controllers: CONTROLLER (SSL, client certificates
    required; SCRAM cannot authenticate controllers, whose credentials live in the metadata they
    serve). Brokers: BROKER for replication (SSL, client certificates required), CLIENT for
    applications (SASL_SSL with SCRAM-SHA-512) and the controller listener's protocol, which a
    broker needs to reach the quorum. Nothing in plaintext."""
    hostvars = hostvars or {}
    controller_port = int(ports["kafka_controller"]["port"])
    common = {"controller.listener.names": CONTROLLER,
              "controller.quorum.bootstrap.servers": quorum_bootstrap(controllers, hostvars, controller_port)}
    if role == "controller":
        return {**common,
                "process.roles": "controller",
                "listeners": f"{CONTROLLER}://{_endpoint('0.0.0.0', controller_port)}",
                "advertised.listeners": f"{CONTROLLER}://{_endpoint(address, controller_port)}",
                "listener.security.protocol.map": f"{CONTROLLER}:SSL",
                "listener.name.controller.ssl.client.auth": "required"}
    if role != "broker":
        _fail(f"unknown Kafka process role '{role}' (controller or broker)")
    broker_port, client_port = int(ports["kafka_broker_internal"]["port"]), int(ports["kafka_broker"]["port"])
    return {**common,
            "process.roles": "broker",
            "listeners": f"{BROKER}://{_endpoint('0.0.0.0', broker_port)},"
                         f"{CLIENT}://{_endpoint('0.0.0.0', client_port)}",
            "advertised.listeners": f"{BROKER}://{_endpoint(address, broker_port)},"
                                    f"{CLIENT}://{_endpoint(address, client_port)}",
            "listener.security.protocol.map": f"{BROKER}:SSL,{CLIENT}:SASL_SSL,{CONTROLLER}:SSL",
            "inter.broker.listener.name": BROKER,
            "listener.name.broker.ssl.client.auth": "required",
            "listener.name.client.ssl.client.auth": "none",
            "sasl.enabled.mechanisms": SCRAM,
            "listener.name.client.sasl.enabled.mechanisms": SCRAM,
            f"listener.name.client.{SCRAM.lower()}.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"}


def tls_settings(tls_dir: str, keystore_password: str, truststore_password: str,
                 keystore: str = "") -> dict[str, Any]:
    """The platform PKI's PKCS12 stores for every listener (and for the broker's connections to the
    controllers and other brokers); peers verify host names against the certificates' SANs.
    keystore: the path of the account's own copy of the keystore (default: the pki role's file)."""
    return {"ssl.keystore.type": "PKCS12", "ssl.keystore.location": keystore or f"{tls_dir}/keystore.p12",
            "ssl.keystore.password": keystore_password, "ssl.key.password": keystore_password,
            "ssl.truststore.type": "PKCS12", "ssl.truststore.location": f"{tls_dir}/truststore.p12",
            "ssl.truststore.password": truststore_password,
            "ssl.client.auth": "required", "ssl.endpoint.identification.algorithm": "https"}


def super_users(hosts: Iterable[str], admin: str) -> str:
    """super.users: User:<host> of every Kafka host (their certificates, CN=<host>) and the admin."""
    names = sorted(set(hosts)) + [admin]
    return ";".join(f"User:{name}" for name in names)


def security_settings(hosts: Iterable[str], admin: str) -> dict[str, Any]:
    return {"authorizer.class.name": AUTHORIZER, "super.users": super_users(hosts, admin),
            "allow.everyone.if.no.acl.found": False, "ssl.principal.mapping.rules": PRINCIPAL_MAPPING}


def jaas_config(user: str, password: str) -> str:
    """sasl.jaas.config of a SCRAM client (double-quoted options of Kafka's JAAS parser)."""
    for name, value in (("user", user), ("password", password)):
        if re.search(r'["\\\s;]', value):
            _fail(f"a SCRAM {name} may not contain quotes, backslashes, semicolons or white space")
    return f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{user}" password="{password}";'


def reserved_keys(extra: Iterable[str] = ()) -> dict[str, str]:
    """Every key the platform's wiring renders (listeners and quorum of both processes, TLS, the
    authorizer, node id, directories) plus `extra`, each with the hint preflight shows when an
    override sets it. Computed from the wiring itself, so a new wiring key is reserved at once."""
    ports = {"kafka_controller": {"port": 9093}, "kafka_broker": {"port": 9092},
             "kafka_broker_internal": {"port": 9091}}
    wiring: dict[str, Any] = {}
    for role in ("controller", "broker"):
        wiring.update(listener_settings(role, "192.0.2.1", ports, ["c"], {}))
    wiring.update(tls_settings("/t", "k", "t"))
    wiring.update(security_settings(["h"], "admin"))
    reserved = dict(RESERVED)
    for key in sorted(set(wiring) | set(extra)):
        if key not in reserved:
            reserved[key] = next((hint for pattern, hint in RESERVED_PATTERNS if pattern.fullmatch(key)),
                                 "the platform sets it")
    return reserved


def check_server(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Kafka's own listener rules (KafkaConfig.validateValues, KRaft part) and the platform's (no
    plaintext) over a merged server.properties; returns it unchanged or raises with every problem."""
    errors = server_errors(settings)
    if errors:
        _fail("; ".join(errors))
    return dict(settings)


def _listener_map(text: str) -> dict[str, str]:
    result = {}
    for item in str(text or "").split(","):
        if item.strip():
            name, _, rest = item.strip().partition("://")
            result[name.upper()] = rest
    return result


def server_errors(settings: Mapping[str, Any]) -> list[str]:
    roles = {r.strip() for r in str(settings.get("process.roles", "")).split(",") if r.strip()}
    errors = []
    if roles not in ({"controller"}, {"broker"}):
        errors.append(f"process.roles must be controller or broker (one process per role), got {sorted(roles)}")
    protocol_map = str(settings.get("listener.security.protocol.map", ""))
    protocols = dict(p.split(":", 1) for p in protocol_map.split(",") if ":" in p)
    listeners = _listener_map(settings.get("listeners", ""))
    advertised = _listener_map(settings.get("advertised.listeners", ""))
    controller_names = [n.strip().upper() for n in str(settings.get("controller.listener.names", "")).split(",")
                        if n.strip()]
    for name in sorted(set(listeners) | set(advertised) | set(controller_names)):
        if name not in protocols:
            errors.append(f"listener {name} has no entry in listener.security.protocol.map")
        elif protocols[name] not in ("SSL", "SASL_SSL"):
            errors.append(f"listener {name} uses {protocols[name]}: the platform allows SSL and SASL_SSL only")
    for name, endpoint in advertised.items():
        if endpoint.startswith("0.0.0.0:") or endpoint.startswith(":"):
            errors.append(f"advertised.listeners: {name} advertises the non-routable {endpoint}")
        if name not in listeners:
            errors.append(f"advertised listener {name} is not in listeners")
    if not controller_names:
        errors.append("controller.listener.names is empty")
    if not settings.get("controller.quorum.bootstrap.servers"):
        errors.append("controller.quorum.bootstrap.servers is empty: the kafka_controller group has no hosts")
    if settings.get("controller.quorum.voters"):
        errors.append("controller.quorum.voters must not be set with a dynamic quorum")
    if roles == {"controller"}:
        if set(listeners) - set(controller_names):
            errors.append("a controller may listen on its controller listener only")
        for name in controller_names:
            if protocols.get(name) != "SSL":
                errors.append(f"the controller listener {name} must be SSL (SCRAM cannot authenticate controllers)")
    if roles == {"broker"}:
        if set(controller_names) & set(listeners):
            errors.append("a broker may not listen on the controller listener")
        inter = str(settings.get("inter.broker.listener.name", "")).upper()
        if inter not in advertised:
            errors.append(f"inter.broker.listener.name {inter or '(empty)'} is not an advertised listener")
        if protocols.get(inter) != "SSL":
            errors.append("brokers must replicate over SSL with client certificates")
    if str(settings.get("ssl.client.auth", "")) != "required":
        errors.append("ssl.client.auth must be required (mutual TLS between the nodes)")
    return errors


# --- sizing -------------------------------------------------------------------------------------
def sizing(memtotal_mb: Any, vcpus: Any, broker: bool = True, controller: bool = False, log_dirs: int = 1,
           broker_heap_mb: int = 0, controller_heap_mb: int = 0, heap_max_mb: int = HEAP_CAP_MB) -> dict[str, Any]:
    """Heaps and broker threads from the host's RAM and cores, for both processes (`broker` and
    `controller` say which of them this host runs: they share its RAM).

    Broker heap: a quarter of the RAM, at least 512 MiB, at most heap_max_mb (upstream runs its
    busiest brokers with 6 GiB; the rest of the RAM is page cache, which serves consumers).
    Controller heap: an eighth of the RAM on a host of its own, a sixteenth beside a broker;
    256 MiB..2 GiB (the metadata image). Broker threads: num.network.threads half the cores
    (3..16, upstream default 3), num.io.threads the cores but at least 8 and one per log directory
    (upstream default 8, "at least the number of disks"), num.replica.fetchers a quarter of the
    cores (1..4). Computed heaps are whole 64 MiB steps; explicit heaps win, and the heaps of the
    processes a host runs must leave it half of its RAM."""
    memtotal_mb, vcpus = int(memtotal_mb), max(1, int(vcpus))
    broker_heap = int(broker_heap_mb) or _round(_clamp(memtotal_mb // 4, 512, int(heap_max_mb)))
    controller_heap = int(controller_heap_mb) or _round(_clamp(memtotal_mb // (16 if broker else 8), 256, 2048))
    result: dict[str, Any] = {
        "broker": {"runs": bool(broker), "heap_mb": broker_heap, "settings": {
            "num.network.threads": _clamp(math.ceil(vcpus / 2), 3, 16),
            "num.io.threads": _clamp(max(vcpus, int(log_dirs)), 8, 64),
            "num.replica.fetchers": _clamp(vcpus // 4, 1, 4)}},
        "controller": {"runs": bool(controller), "heap_mb": controller_heap, "settings": {}},
    }
    total = sum(p["heap_mb"] for p in result.values() if p["runs"])
    if total > memtotal_mb * 0.5 and (broker_heap_mb or controller_heap_mb):
        _fail(f"the Kafka heaps ({total} MiB) take more than half of the host's {memtotal_mb} MiB: "
              "lower kafka_broker_heap_mb / kafka_controller_heap_mb (Kafka serves reads from the page cache)")
    for process in result.values():
        process["env"] = jvm_environment(process["heap_mb"])
    return result


def jvm_environment(heap_mb: int) -> dict[str, str]:
    """KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS (kafka-run-class.sh reads both)."""
    flags = list(JVM_FLAGS)
    if int(heap_mb) >= 4096:  # upstream's 16M regions suit its 6 GiB heaps; G1 picks smaller ones itself
        flags.insert(3, "-XX:G1HeapRegionSize=16M")
    return {"KAFKA_HEAP_OPTS": f"-Xms{int(heap_mb)}m -Xmx{int(heap_mb)}m",
            "KAFKA_JVM_PERFORMANCE_OPTS": " ".join(flags)}


def replication_defaults(brokers: int) -> dict[str, int]:
    """Cluster-wide replication settings from the broker count: replication factor 3 (fewer
    brokers: all of them), min.insync.replicas one less, so that one broker may restart without
    refusing acks=all writes; the internal topics the same."""
    rf = max(1, min(3, int(brokers)))
    isr = max(1, rf - 1)
    return {"default.replication.factor": rf, "min.insync.replicas": isr,
            "offsets.topic.replication.factor": rf, "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": isr, "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": isr}


# --- preflight rules ----------------------------------------------------------------------------
def topology_errors(controllers: list[str], brokers: list[str], hostvars: Mapping[str, Any] | None = None,
                    admin: str = "admin") -> list[str]:
    """The quorum and the groups: an odd number of controllers, brokers and controllers together,
    unique node ids, no host named like the admin principal."""
    errors = []
    if brokers and not controllers:
        errors.append(f"kafka_broker has {len(brokers)} hosts but kafka_controller is empty: brokers need a "
                      "KRaft quorum; put 3 (or 1, or 5) hosts in kafka_controller")
    if controllers and not brokers:
        errors.append(f"kafka_controller has {len(controllers)} hosts but kafka_broker is empty: a quorum "
                      "without brokers serves no client; put hosts in kafka_broker")
    if controllers and len(controllers) % 2 == 0:
        errors.append(f"kafka_controller has {len(controllers)} hosts ({', '.join(controllers)}): a KRaft quorum "
                      "needs an odd number (3 or 5; 1 for a small site) - an even one tolerates no more failures "
                      "than one host less")
    errors += node_id_errors(node_ids(controllers, brokers, hostvars))
    if admin in set(controllers) | set(brokers):
        errors.append(f"host {admin} is named like kafka_admin_user: its certificate would be the admin "
                      "principal; rename kafka_admin_user")
    return errors


def topology_warnings(controllers: list[str], brokers: list[str]) -> list[str]:
    warnings = []
    if len(controllers) == 1:
        warnings.append(f"a single KRaft controller ({controllers[0]}) is a single point of failure: "
                        "metadata changes stop while it restarts; use 3 for production")
    if len(controllers) > 5:
        warnings.append(f"{len(controllers)} KRaft controllers: upstream typically runs 3 or 5; every voter "
                        "slows down commits")
    if brokers and len(brokers) < 3:
        warnings.append(f"{len(brokers)} Kafka broker(s) cannot hold topics with replication factor 3")
    return warnings


def replication_errors(settings: Mapping[str, Any], brokers: int) -> list[str]:
    """The cluster-wide replication settings (computed or overridden) against the broker count."""
    errors = []
    pairs = (("default.replication.factor", "min.insync.replicas"),
             ("transaction.state.log.replication.factor", "transaction.state.log.min.isr"),
             ("share.coordinator.state.topic.replication.factor", "share.coordinator.state.topic.min.isr"))
    for rf_key, isr_key in pairs:
        if settings.get(rf_key) is None:  # removed (null override): Kafka's own default applies
            continue
        rf, isr = int(settings[rf_key]), int(settings.get(isr_key) or 1)
        if brokers and rf > brokers:
            errors.append(f"{rf_key} {rf} is more than the {brokers} broker(s) of kafka_broker")
        errors += _isr_errors(isr_key, isr, rf, rf_key)
    rf = int(settings.get("offsets.topic.replication.factor") or 1)
    if brokers and rf > brokers:
        errors.append(f"offsets.topic.replication.factor {rf} is more than the {brokers} broker(s) of kafka_broker")
    return errors


def _isr_errors(what: str, isr: int, rf: int, rf_what: str) -> list[str]:
    if isr < 1:
        return [f"{what} must be at least 1"]
    if rf > 1 and isr >= rf:
        return [f"{what} {isr} is not below {rf_what} {rf}: a single broker restart would refuse acks=all "
                f"writes (and the rolling restart waits for it); use {rf - 1}"]
    if rf == 1 and isr != 1:
        return [f"{what} {isr} exceeds {rf_what} 1: every acks=all write would fail"]
    return []


def _string_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_string_value(v) for v in value)
    return str(value)


def topics_normalized(topics: Iterable[Mapping[str, Any]], default_rf: int) -> list[dict[str, Any]]:
    """kafka_topics with defaults filled in (1 partition, the cluster's replication factor, state
    present) and config values as the tools print them (strings; booleans lower case, lists joined
    with commas)."""
    result = []
    for topic in topics or ():
        configs = {str(k): _string_value(v) for k, v in (topic.get("configs") or {}).items() if v is not None}
        result.append({"name": str(topic.get("name", "")), "partitions": int(topic.get("partitions", 1)),
                       "replication_factor": int(topic.get("replication_factor") or default_rf),
                       "configs": configs, "state": str(topic.get("state", "present"))})
    return result


def topic_errors(topics: Iterable[Mapping[str, Any]], brokers: int, default_rf: int, default_min_isr: int,
                 unchecked: Iterable[str] = (), catalog: Mapping[str, Any] | None = None) -> list[str]:
    """kafka_topics: names, partitions, replication factor <= brokers, min.insync.replicas below
    the replication factor, configs known to the pinned version's catalog (section topic)."""
    errors, seen = [], set()
    for index, raw in enumerate(topics or ()):
        if not isinstance(raw, Mapping):
            errors.append(f"kafka_topics[{index}] must be a mapping")
            continue
        name = str(raw.get("name", ""))
        where = f"kafka_topics '{name}'" if name else f"kafka_topics[{index}]"
        if not _TOPIC_NAME.fullmatch(name) or name in (".", ".."):
            errors.append(f"{where}: a topic name is 1-249 of [a-zA-Z0-9._-] (and not '.' or '..')")
        elif name.startswith("__"):
            errors.append(f"{where}: names starting with '__' are Kafka's internal topics")
        if name in seen:
            errors.append(f"{where} is declared twice")
        seen.add(name)
        unknown = set(raw) - {"name", "partitions", "replication_factor", "configs", "state"}
        if unknown:
            errors.append(f"{where}: unknown fields {sorted(unknown)} "
                          "(name, partitions, replication_factor, configs, state)")
        if raw.get("state", "present") not in ("present", "absent"):
            errors.append(f"{where}: state must be present or absent")
        try:
            partitions = int(raw.get("partitions", 1))
            rf = int(raw.get("replication_factor") or default_rf)
        except (TypeError, ValueError):
            errors.append(f"{where}: partitions and replication_factor must be integers")
            continue
        if partitions < 1:
            errors.append(f"{where}: partitions must be at least 1")
        if rf < 1 or (brokers and rf > brokers):
            errors.append(f"{where}: replication_factor {rf} must be 1..{brokers} (the brokers of kafka_broker)")
        configs = raw.get("configs") or {}
        if not isinstance(configs, Mapping):
            errors.append(f"{where}: configs must be a mapping of topic configs")
            continue
        isr = configs.get("min.insync.replicas", default_min_isr if rf > 1 else 1)
        errors += [f"{where}: {e}" for e in _isr_errors("min.insync.replicas", int(isr), rf, "replication_factor")]
        for key, value in configs.items():
            if "=" in _string_value(value) or "\n" in _string_value(value):
                errors.append(f"{where}: config {key} may not contain '=' or a line break (the tools split on '=')")
        errors += _config().settings_errors(configs, component="kafka", section="topic", unchecked=unchecked,
                                            variable=f"{where} configs", catalog=catalog)
    return errors


def user_errors(users: Iterable[Mapping[str, Any]], hosts: Iterable[str], admin: str) -> list[str]:
    """kafka_users: SCRAM user names; none may be a Kafka host's or the admin's (both super users)."""
    errors, seen = [], set()
    supers = set(hosts) | {admin}
    for index, user in enumerate(users or ()):
        name = str((user or {}).get("name", "")) if isinstance(user, Mapping) else ""
        where = f"kafka_users '{name}'" if name else f"kafka_users[{index}]"
        if not _USER_NAME.fullmatch(name):
            errors.append(f"{where}: a user name is 1-128 of [A-Za-z0-9._@-]")
        if name in supers:
            errors.append(f"{where}: '{name}' is a super user (a Kafka host or kafka_admin_user); choose another name")
        if name in seen:
            errors.append(f"{where} is declared twice")
        seen.add(name)
        if isinstance(user, Mapping):
            if set(user) - {"name", "state"}:
                errors.append(f"{where}: unknown fields {sorted(set(user) - {'name', 'state'})} (name, state)")
            if user.get("state", "present") not in ("present", "absent"):
                errors.append(f"{where}: state must be present or absent")
    return errors


# --- ACLs ---------------------------------------------------------------------------------------
def _principal(text: Any) -> str:
    text = str(text)
    return text if ":" in text else f"User:{text}"


def _enum(value: Any) -> str:
    """READ, Read, read, DescribeConfigs, describe_configs -> the enum name (DESCRIBE_CONFIGS)."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", str(value).strip())
    return text.replace("-", "_").upper()


def _pascal(enum: str) -> str:
    return "".join(part.capitalize() for part in enum.split("_"))


def acls_desired(acls: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """kafka_acls as individual bindings (one operation each), sorted and without duplicates:
    {resource_type, name, pattern_type, principal, host, operation, permission}."""
    bindings = set()
    for acl in acls or ():
        kind = str(acl.get("resource_type", "topic")).lower()
        resource = RESOURCES[kind][0] if kind in RESOURCES else kind.upper()
        name = CLUSTER_NAME if kind == "cluster" else str(acl.get("name", ""))
        pattern = _enum(acl.get("pattern_type", "literal"))
        for operation in acl.get("operations") or ():
            bindings.add((resource, name, pattern, _principal(acl.get("principal", "")), str(acl.get("host", "*")),
                          _enum(operation), _enum(acl.get("permission", "allow"))))
    return [dict(zip(("resource_type", "name", "pattern_type", "principal", "host", "operation", "permission"), b))
            for b in sorted(bindings)]


def acl_errors(acls: Iterable[Mapping[str, Any]]) -> list[str]:
    errors = []
    fields = {"principal", "resource_type", "name", "pattern_type", "operations", "permission", "host"}
    for index, acl in enumerate(acls or ()):
        where = f"kafka_acls[{index}]"
        if not isinstance(acl, Mapping):
            errors.append(f"{where} must be a mapping")
            continue
        if set(acl) - fields:
            errors.append(f"{where}: unknown fields {sorted(set(acl) - fields)} ({', '.join(sorted(fields))})")
        kind = str(acl.get("resource_type", "topic")).lower()
        if kind not in RESOURCES:
            errors.append(f"{where}: resource_type must be one of {', '.join(RESOURCES)}")
        if kind != "cluster" and not str(acl.get("name", "")):
            errors.append(f"{where}: a {kind} ACL needs a name ('*' for all)")
        if not re.fullmatch(r"[A-Za-z]+:.+|[^:]+", str(acl.get("principal", ""))) or not acl.get("principal"):
            errors.append(f"{where}: principal must be User:<name> (or a plain user name)")
        if _enum(acl.get("pattern_type", "literal")) not in PATTERNS:
            errors.append(f"{where}: pattern_type must be literal or prefixed")
        if _enum(acl.get("permission", "allow")) not in PERMISSIONS:
            errors.append(f"{where}: permission must be allow or deny")
        operations = acl.get("operations") or []
        bad = [op for op in operations if _enum(op) not in OPERATIONS]
        if not operations or bad:
            errors.append(f"{where}: operations must be a non-empty list of {', '.join(_pascal(o) for o in OPERATIONS)}"
                          + (f" (unknown: {', '.join(map(str, bad))})" if bad else ""))
        host = str(acl.get("host", "*"))
        if host != "*":
            try:
                ipaddress.ip_address(host)
            except ValueError:
                errors.append(f"{where}: host must be '*' or an IP address (kafka-acls.sh takes no host names)")
    return errors


_ACL_RESOURCE = re.compile(r"Current ACLs for resource `ResourcePattern\(resourceType=([A-Z_]+), name=(.*), "
                           r"patternType=([A-Z_]+)\)`:")
_ACL_ENTRY = re.compile(r"\(principal=(.+), host=(.+), operation=([A-Z_]+), permissionType=([A-Z]+)\)")


def parse_acls(stdout: str) -> list[dict[str, str]]:
    """kafka-acls.sh --list: "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t,
    patternType=LITERAL)`:" followed by one "(principal=User:a, host=*, operation=READ,
    permissionType=ALLOW)" line per binding."""
    bindings, resource = set(), None
    for line in str(stdout).splitlines():
        line = line.strip()
        if not line:
            continue
        found = _ACL_RESOURCE.fullmatch(line)
        if found:
            resource = found.groups()
            continue
        entry = _ACL_ENTRY.fullmatch(line)
        if entry and resource:
            bindings.add((resource[0], resource[1], resource[2], *entry.groups()))
        elif entry or line.startswith("Current ACLs"):
            _fail(f"unexpected kafka-acls.sh output line: {line}")
    return [dict(zip(("resource_type", "name", "pattern_type", "principal", "host", "operation", "permission"), b))
            for b in sorted(bindings)]


def acl_diff(desired: Iterable[Mapping[str, str]], current: Iterable[Mapping[str, str]],
             exclusive: bool = True) -> dict[str, list[dict[str, str]]]:
    """Bindings to add (desired, not present) and to remove (present, not desired; only when the
    declared ACLs are the whole truth, kafka_acls_exclusive)."""
    key = ("resource_type", "name", "pattern_type", "principal", "host", "operation", "permission")
    want = {tuple(b[k] for k in key) for b in desired}
    have = {tuple(b[k] for k in key) for b in current}
    as_dicts = lambda items: [dict(zip(key, b)) for b in sorted(items)]  # noqa: E731
    return {"add": as_dicts(want - have), "remove": as_dicts(have - want) if exclusive else []}


def acl_commands(diff: Mapping[str, Iterable[Mapping[str, str]]], base: list[str]) -> list[dict[str, Any]]:
    """kafka-acls.sh argv lists for a diff, one per resource, principal, host and permission (all
    its operations in one call): {label, argv}. `base` is the tool with its connection options."""
    commands = []
    for action in ("remove", "add"):
        groups: dict[tuple, list[str]] = {}
        for b in diff.get(action) or ():
            group = (b["resource_type"], b["name"], b["pattern_type"], b["principal"], b["host"], b["permission"])
            groups.setdefault(group, []).append(b["operation"])
        for (resource, name, pattern, principal, host, permission), operations in sorted(groups.items()):
            kind = next(k for k, v in RESOURCES.items() if v[0] == resource)
            who = "allow" if permission == "ALLOW" else "deny"
            argv = list(base) + [f"--{action}", f"--{who}-principal", principal, f"--{who}-host", host]
            for operation in sorted(operations):
                argv += ["--operation", _pascal(operation)]
            argv += [RESOURCES[kind][1]] + ([] if kind == "cluster" else [name])
            argv += ["--resource-pattern-type", pattern.lower()] + (["--force"] if action == "remove" else [])
            label = (f"{action} {who} {principal} {','.join(_pascal(o) for o in sorted(operations))} "
                     f"on {resource.lower()} {name} ({pattern.lower()})")
            commands.append({"label": label, "argv": argv})
    return commands


# --- topics -------------------------------------------------------------------------------------
_TOPIC_HEADER = re.compile(r"Topic: (\S+)\t(?:TopicId: \S+\t)?PartitionCount: (\d+)\t"
                           r"ReplicationFactor: (\d+)\tConfigs:")


def parse_topics(stdout: str) -> dict[str, dict[str, int]]:
    """kafka-topics.sh --describe: one header line per topic ("Topic: t<TAB>TopicId: ...<TAB>
    PartitionCount: 3<TAB>ReplicationFactor: 3<TAB>Configs: ..."), partition lines start with a tab."""
    topics = {}
    for line in str(stdout).splitlines():
        found = _TOPIC_HEADER.match(line)
        if found:
            topics[found.group(1)] = {"partitions": int(found.group(2)), "replication_factor": int(found.group(3))}
    return topics


def count_partition_lines(stdout: str) -> int:
    """Partition lines of kafka-topics.sh --describe --under-replicated-partitions (or any other
    partition filter): each starts with "<TAB>Topic: t<TAB>Partition: n"."""
    return sum(1 for line in str(stdout).splitlines() if re.match(r"\s*Topic: \S+\tPartition: \d+", line))


_CONFIG_HEADER = re.compile(r"Dynamic configs for topic (\S+) are:")
_CONFIG_ENTRY = re.compile(r"  ([A-Za-z0-9._-]+)=(.*) sensitive=(true|false) synonyms=\{.*\}")


def parse_topic_configs(stdout: str) -> dict[str, dict[str, str]]:
    """kafka-configs.sh --describe --entity-type topics: "Dynamic configs for topic t are:" followed
    by "  key=value sensitive=false synonyms={...}" per topic-level override."""
    configs: dict[str, dict[str, str]] = {}
    topic = None
    for line in str(stdout).splitlines():
        found = _CONFIG_HEADER.fullmatch(line.strip())
        if found:
            topic = found.group(1)
            configs[topic] = {}
            continue
        entry = _CONFIG_ENTRY.fullmatch(line)
        if entry and topic is not None:
            configs[topic][entry.group(1)] = entry.group(2)
    return configs


def topic_plan(desired: Iterable[Mapping[str, Any]], current: Mapping[str, Mapping[str, int]],
               current_configs: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """What to do so that the cluster's topics are the declared ones: create, add partitions, set
    and delete topic-level configs (a declared topic's configs are all of its overrides), delete
    topics declared absent. Never shrinks partitions or changes a replication factor (errors: a
    reassignment is an operation, docs/components/kafka.md). Undeclared topics are left alone."""
    actions, errors = [], []
    for topic in desired:
        name = topic["name"]
        have = current.get(name)
        if topic.get("state", "present") == "absent":
            if have is not None:
                actions.append({"action": "delete", "topic": name})
            continue
        if have is None:
            actions.append({"action": "create", "topic": name, "partitions": topic["partitions"],
                            "replication_factor": topic["replication_factor"], "configs": dict(topic["configs"])})
            continue
        if topic["partitions"] < have["partitions"]:
            errors.append(f"topic {name} has {have['partitions']} partitions; Kafka cannot remove partitions "
                          f"(kafka_topics asks for {topic['partitions']})")
        elif topic["partitions"] > have["partitions"]:
            actions.append({"action": "partitions", "topic": name, "from": have["partitions"],
                            "to": topic["partitions"]})
        if topic["replication_factor"] != have["replication_factor"]:
            errors.append(f"topic {name} has replication factor {have['replication_factor']}, kafka_topics asks for "
                          f"{topic['replication_factor']}: change it with a partition reassignment "
                          "(docs/components/kafka.md, Operations)")
        existing = dict(current_configs.get(name, {}))
        changed = {k: v for k, v in sorted(topic["configs"].items()) if existing.get(k) != v}
        removed = sorted(set(existing) - set(topic["configs"]))
        if changed or removed:
            actions.append({"action": "configs", "topic": name, "set": changed, "delete": removed})
    return {"actions": actions, "errors": errors}


def _config_arg(configs: Mapping[str, str]) -> str:
    """--add-config of kafka-configs.sh: k=v pairs separated by commas, values with commas in [ ]."""
    return ",".join(f"{k}=[{v}]" if "," in v else f"{k}={v}" for k, v in sorted(configs.items()))


def topic_commands(plan: Mapping[str, Any], topics_base: list[str], configs_base: list[str]) -> list[dict[str, Any]]:
    """Argv lists for a topic plan: kafka-topics.sh for create / partitions / delete,
    kafka-configs.sh for topic-level configs."""
    commands = []
    for item in plan.get("actions") or ():
        name = item["topic"]
        if item["action"] == "create":
            argv = list(topics_base) + ["--create", "--topic", name, "--partitions", str(item["partitions"]),
                                        "--replication-factor", str(item["replication_factor"])]
            for key, value in sorted(item["configs"].items()):
                argv += ["--config", f"{key}={value}"]
            label = f"create {name} ({item['partitions']} partitions, replication factor {item['replication_factor']})"
        elif item["action"] == "partitions":
            argv = list(topics_base) + ["--alter", "--topic", name, "--partitions", str(item["to"])]
            label = f"partitions of {name}: {item['from']} -> {item['to']}"
        elif item["action"] == "delete":
            argv = list(topics_base) + ["--delete", "--topic", name]
            label = f"delete {name}"
        else:
            argv = list(configs_base) + ["--alter", "--entity-type", "topics", "--entity-name", name]
            if item["set"]:
                argv += ["--add-config", _config_arg(item["set"])]
            if item["delete"]:
                argv += ["--delete-config", ",".join(item["delete"])]
            label = f"configs of {name}: set {sorted(item['set'])}, delete {item['delete']}"
        commands.append({"label": label, "argv": argv})
    return commands


# --- SCRAM users --------------------------------------------------------------------------------
_SCRAM_LINE = re.compile(r"SCRAM credential configs for user-principal '(.+)' are (.*)")


def parse_scram_users(stdout: str) -> dict[str, dict[str, int]]:
    """kafka-configs.sh --describe --entity-type users: "SCRAM credential configs for user-principal
    'alice' are SCRAM-SHA-512=iterations=8192[, SCRAM-SHA-256=iterations=4096]"."""
    users = {}
    for line in str(stdout).splitlines():
        found = _SCRAM_LINE.fullmatch(line.strip())
        if found:
            mechanisms = {}
            for part in found.group(2).split(","):
                mechanism, _, rest = part.strip().partition("=iterations=")
                if mechanism and rest.isdigit():
                    mechanisms[mechanism] = int(rest)
            users[found.group(1)] = mechanisms
    return users


def user_plan(users: Iterable[Mapping[str, Any]], current: Mapping[str, Mapping[str, int]],
              changed: Iterable[str] = ()) -> dict[str, list[str]]:
    """Users whose SCRAM-SHA-512 credential to set (declared and missing, or whose password file
    changed in this run: a new or rotated password) and to delete (declared absent and present).
    The cluster keeps only salted keys, so a password is compared through its file."""
    changed = set(changed or ())
    upsert, delete = [], []
    for user in users or ():
        name = str(user["name"])
        present = SCRAM in (current.get(name) or {})
        if user.get("state", "present") == "absent":
            if present:
                delete.append(name)
        elif not present or name in changed:
            upsert.append(name)
    return {"upsert": sorted(upsert), "delete": sorted(delete)}


def scram_file(password: str) -> dict[str, str]:
    """The --add-config-file of a user's credential (Java properties; a file keeps the password out
    of argv). Its value is not bracketed: ConfigCommand strips brackets only from --add-config."""
    return {SCRAM: f"iterations={SCRAM_ITERATIONS},password={password}"}


# --- quorum, brokers, storage ---------------------------------------------------------------------
def parse_quorum_status(stdout: str) -> dict[str, Any]:
    """kafka-metadata-quorum.sh describe --status: "LeaderId:   3001" and "CurrentVoters: [{"id":
    3000, ...}, ...]" (the voters' ids; observers are not voters)."""
    leader = re.search(r"^LeaderId:\s+(-?\d+)", str(stdout), re.M)
    voters_text = re.search(r"^CurrentVoters:\s+(\[.*?\])\s*$(?=\n\S|\Z)", str(stdout), re.M | re.S)
    voters = sorted(int(v) for v in re.findall(r'"id":\s*(\d+)', voters_text.group(1))) if voters_text else []
    return {"leader": int(leader.group(1)) if leader else -1, "voters": voters}


def missing_voters(controllers: Iterable[str], ids: Mapping[str, Mapping[str, Any]],
                   voters: Iterable[int]) -> list[str]:
    """The controllers of the inventory that are not voters of the quorum: "host (node id)"."""
    voters = {int(v) for v in voters}
    return [f"{h} ({ids[h]['controller']})" for h in controllers if int(ids[h]["controller"]) not in voters]


def parse_broker_ids(stdout: str) -> list[int]:
    """kafka-broker-api-versions.sh: one "host:port (id: 1 rack: null ...) -> (" line per broker
    the cluster lists, which are the registered, unfenced brokers."""
    return sorted({int(m) for m in re.findall(r"^\S+ \(id: (-?\d+) rack: ", str(stdout), re.M)})


def format_plan(states: Mapping[str, Mapping[str, Any]], controllers: list[str], brokers: list[str],
                play_hosts: Iterable[str], ids: Mapping[str, Mapping[str, Any]], cluster_id: str) -> dict[str, Any]:
    """Which log directories to format on which host, and how, from each host's storage state
    (files/fdp-kafka-storage-state: per process, per directory, meta.properties and whether the
    metadata log was ever started). Formats only directories without meta.properties, and refuses:
    a formatted directory of another cluster or node id, an unformatted directory holding files,
    and a controller format whose kind cannot be decided because other controllers are not in the
    play. The first controllers format with --initial-controllers (all of them, the same string);
    once the quorum exists (a controller is formatted and was started), a new or emptied controller
    joins with --no-initial-controllers and must be added with kafka-metadata-quorum.sh
    add-controller (upstream: a voter must never come back with an empty log under its old id)."""
    play = set(play_hosts)
    errors: list[str] = []
    plan: dict[str, dict[str, Any]] = {}
    formatted_controllers = [h for h in controllers if any(
        d.get("meta") for d in ((states.get(h) or {}).get("controller") or {}).values())]
    started = any(d.get("quorum_state") for h in controllers
                  for d in ((states.get(h) or {}).get("controller") or {}).values())
    bootstrap_done = bool(formatted_controllers) and started
    for host in sorted(states):
        entry = {"controller": {"action": "none", "dirs": []}, "broker": {"action": "none", "dirs": []}}
        for kind in ("controller", "broker"):
            dirs = (states[host] or {}).get(kind) or {}
            node = (ids.get(host) or {}).get(kind)
            empty = []
            for path, state in sorted(dirs.items()):
                meta = state.get("meta")
                if meta:
                    if str(meta.get("cluster.id")) != cluster_id:
                        errors.append(f"host {host}: {path} belongs to Kafka cluster {meta.get('cluster.id')}, "
                                      f"this inventory's is {cluster_id} (credentials kafka_cluster_id): "
                                      "refusing to touch it")
                    if str(meta.get("node.id")) != str(node):
                        errors.append(f"host {host}: {path} was formatted for node {meta.get('node.id')}, the {kind} "
                                      f"is node {node} now: pin kafka_{kind}_node_id: {meta.get('node.id')} for {host}")
                elif state.get("entries"):
                    held = ", ".join(state["entries"][:5])
                    errors.append(f"host {host}: {path} has no meta.properties but holds {held}: not formatting a "
                                  "directory with data; empty it or point the role elsewhere")
                else:
                    empty.append(path)
            if not empty:
                continue
            if kind == "broker":
                entry[kind] = {"action": "format", "dirs": empty}
            elif bootstrap_done:
                entry[kind] = {"action": "join", "dirs": empty}
            elif not set(controllers) <= play:
                outside = ", ".join(sorted(set(controllers) - play))
                errors.append(f"host {host}: its controller storage is empty, and whether it starts the quorum or "
                              f"joins one depends on controllers outside this run ({outside}): run without --limit")
            else:
                entry[kind] = {"action": "initial", "dirs": empty}
        plan[host] = entry
    return {"hosts": plan, "errors": errors}


def format_args(action: str, config: str, cluster_id: str, initial: str = "", admin: str = "",
                admin_password: str = "") -> list[str]:
    """The lines of the kafka-storage.sh @argfile (argparse4j reads one argument per line; the file
    keeps the admin's password out of argv): format with --ignore-formatted, which formats only the
    directories without meta.properties. The first controllers get --initial-controllers and the
    admin's SCRAM credential (written to the metadata log's bootstrap); joining controllers
    --no-initial-controllers; brokers nothing more."""
    args = ["format", "--config", config, "--cluster-id", cluster_id, "--ignore-formatted"]
    if action == "initial":
        if re.search(r'[\s,"\]\[]', admin_password) or not admin_password:
            _fail("kafka_admin_password may not contain white space, commas, quotes or brackets "
                  "(kafka-storage.sh --add-scram syntax)")
        args += ["--initial-controllers", initial,
                 "--add-scram", f"{SCRAM}=[name={admin},iterations={SCRAM_ITERATIONS},password={admin_password}]"]
    elif action == "join":
        args += ["--no-initial-controllers"]
    elif action != "format":
        _fail(f"unknown format action '{action}'")
    if any("\n" in a or a != a.strip() for a in args):
        _fail("a kafka-storage.sh argument may not contain line breaks or surrounding white space")
    return args


class FilterModule:
    """fdp_kafka_* filters."""

    def filters(self):
        return {
            "fdp_kafka_uuid": kafka_uuid,
            "fdp_kafka_node_ids": node_ids,
            "fdp_kafka_quorum_bootstrap": quorum_bootstrap,
            "fdp_kafka_bootstrap": quorum_bootstrap,
            "fdp_kafka_initial_controllers": initial_controllers,
            "fdp_kafka_listeners": listener_settings,
            "fdp_kafka_tls": tls_settings,
            "fdp_kafka_security": security_settings,
            "fdp_kafka_jaas": jaas_config,
            "fdp_kafka_reserved": reserved_keys,
            "fdp_kafka_check": check_server,
            "fdp_kafka_sizing": sizing,
            "fdp_kafka_replication": replication_defaults,
            "fdp_kafka_topology_errors": topology_errors,
            "fdp_kafka_topology_warnings": topology_warnings,
            "fdp_kafka_replication_errors": replication_errors,
            "fdp_kafka_topic_errors": topic_errors,
            "fdp_kafka_topics": topics_normalized,
            "fdp_kafka_user_errors": user_errors,
            "fdp_kafka_acl_errors": acl_errors,
            "fdp_kafka_acls": acls_desired,
            "fdp_kafka_parse_acls": parse_acls,
            "fdp_kafka_acl_diff": acl_diff,
            "fdp_kafka_acl_commands": acl_commands,
            "fdp_kafka_parse_topics": parse_topics,
            "fdp_kafka_parse_topic_configs": parse_topic_configs,
            "fdp_kafka_topic_plan": topic_plan,
            "fdp_kafka_topic_commands": topic_commands,
            "fdp_kafka_partition_lines": count_partition_lines,
            "fdp_kafka_parse_users": parse_scram_users,
            "fdp_kafka_user_plan": user_plan,
            "fdp_kafka_scram_file": scram_file,
            "fdp_kafka_parse_quorum_status": parse_quorum_status,
            "fdp_kafka_parse_broker_ids": parse_broker_ids,
            "fdp_kafka_missing_voters": missing_voters,
            "fdp_kafka_format_plan": format_plan,
            "fdp_kafka_format_args": format_args,
        }
