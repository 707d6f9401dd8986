"""Filters for the PKI and the firewall: certificate SANs and per-host nftables rules composed
from the platform port matrix (roles/platform/defaults/main/ports.yml).

Unit-tested in tests/unit/test_security_filters.py.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

ALL = "all"


COPIED = ("host.key", "host.crt", "fullchain.crt", "keystore.p12")
# The keystore of an internal mesh (platform_tls_meshes) is copied too: mesh-<name>.p12.
MESH_KEYSTORE = re.compile(r"^mesh-[a-z][a-z0-9_]*\.p12$")
MESH_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A mesh's files in the TLS directory, in the order its record lists them.
MESH_FILES = ("mesh-{}.key", "mesh-{}.crt", "mesh-{}-ca.crt", "mesh-{}.p12", "mesh-{}-trust.p12")


def copied(name: str) -> bool:
    """Whether a service may have its own copy of this TLS file (private/<account>/<name>)."""
    return name in COPIED or bool(MESH_KEYSTORE.match(name))


def meshes(declared: Mapping[str, Iterable[str]] | None, group_names: Iterable[str]) -> list[str]:
    """The internal meshes (platform_tls_meshes: name -> inventory groups) with one of
    `group_names` among their groups, sorted."""
    groups = set(group_names or ())
    for name, members in (declared or {}).items():
        if not MESH_NAME.match(str(name)):
            raise ValueError(f"platform_tls_meshes: '{name}' must match {MESH_NAME.pattern} (it names files)")
        if isinstance(members, (str, bytes)) or not isinstance(members, Iterable):
            raise ValueError(f"platform_tls_meshes.{name} must be a list of inventory groups")
    return sorted(str(name) for name, members in (declared or {}).items() if groups & set(members))


def mesh_errors(declared: Any, known_groups: Iterable[str]) -> list[str]:
    """Preflight: platform_tls_meshes is a mapping of names (they name files) to lists of known
    inventory groups."""
    if not isinstance(declared, Mapping):
        return ["platform_tls_meshes must be a mapping of mesh names to lists of inventory groups"]
    known = set(known_groups)
    errors = []
    for name, members in declared.items():
        if not MESH_NAME.match(str(name)):
            errors.append(f"platform_tls_meshes: '{name}' must match {MESH_NAME.pattern} (it names the mesh's files)")
        if isinstance(members, (str, bytes)) or not isinstance(members, Iterable):
            errors.append(f"platform_tls_meshes.{name} must be a list of inventory groups")
            continue
        unknown = sorted(set(map(str, members)) - known)
        if unknown:
            errors.append(f"platform_tls_meshes.{name}: unknown groups {unknown}")
    return errors


def mesh_record(found: Iterable[Mapping[str, Any]], tls_dir: str, name: str, pki_dir: str,
                settings: Iterable[Any]) -> str:
    """What <tls_dir>/.mesh-<name>.verified holds for the mesh's files as one find read them:
    each file's SHA-1, owner, group and mode, the SHA-1 of the mesh CA on the controller
    (<pki_dir>/mesh-<name>-ca.crt) - during a CA rollover also of the next or previous mesh CA
    the hosts trust besides it - and the settings the files were made with."""
    tls_dir = tls_dir.rstrip("/")
    files = {str(f["path"]): f for f in found or ()}
    parts = ["fdp-pki-mesh 1", name]
    for pattern in MESH_FILES:
        entry = files.get(f"{tls_dir}/{pattern.format(name)}")
        parts.append("none" if entry is None else ":".join(
            str(entry.get(key, "")) for key in ("checksum", "pw_name", "gr_name", "mode")))
    base = f"{pki_dir.rstrip('/')}/mesh-{name}-ca"
    try:
        with open(f"{base}.crt", "rb") as ca:
            parts.append(hashlib.sha1(ca.read()).hexdigest())
    except FileNotFoundError:
        parts.append("no-ca")
    for step in ("next", "previous"):  # only while a rollover has them: a record without stays valid
        try:
            with open(f"{base}-{step}.crt", "rb") as ca:
                parts.append(f"{step}:{hashlib.sha1(ca.read()).hexdigest()}")
        except FileNotFoundError:
            pass
    parts.extend(str(s) for s in settings)
    return " ".join(parts)


def stale_meshes(found: Iterable[Mapping[str, Any]], tls_dir: str, names: Iterable[str], pki_dir: str,
                 settings: Iterable[Any]) -> list[str]:
    """The meshes of `names` whose record (.mesh-<name>.verified, written by the run that made
    their files) does not describe the files and the CA as `found` and the controller have them."""
    found = list(found or ())
    settings = list(settings)
    records = {str(f["path"]): f.get("checksum") for f in found}
    return [name for name in names
            if records.get(f"{tls_dir.rstrip('/')}/.mesh-{name}.verified")
            != hashlib.sha1(mesh_record(found, tls_dir, name, pki_dir, settings).encode()).hexdigest()]


def stale_copies(found: Iterable[Mapping[str, Any]], tls_dir: str) -> list[dict[str, Any]]:
    """The services' own copies of the key material (<tls_dir>/private/<account>/<file>, made by
    the service skeleton) whose checksum is not their original's (<tls_dir>/<file>), from one
    find of the TLS directory with checksums. A copy whose original is gone is left alone."""
    found = list(found or ())
    originals = {f["path"]: f.get("checksum") for f in found}
    stale = []
    for entry in found:
        parts = str(entry["path"]).removeprefix(tls_dir.rstrip("/") + "/").split("/")
        if len(parts) != 3 or parts[0] != "private" or not copied(parts[2]):
            continue
        original = originals.get(f"{tls_dir.rstrip('/')}/{parts[2]}")
        if original and entry.get("checksum") != original:
            stale.append({"path": entry["path"], "src": f"{tls_dir.rstrip('/')}/{parts[2]}",
                          "group": entry.get("gr_name", "root")})
    return sorted(stale, key=lambda e: e["path"])


def subject_alt_names(names: Iterable[str]) -> list[str]:
    """["DNS:name", "IP:addr", ...] for certificate SANs, without duplicates, order kept."""
    sans: list[str] = []
    for name in names:
        name = str(name).strip().rstrip(".")
        if not name:
            continue
        try:
            entry = f"IP:{ipaddress.ip_address(name)}"
        except ValueError:
            entry = f"DNS:{name.lower()}"
        if entry not in sans:
            sans.append(entry)
    return sans


def host_address(host: str, hostvars: Mapping[str, Mapping[str, Any]]) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address peers see for `host`: ansible_host when it is an IP, else its default IPv4."""
    hv = hostvars.get(host, {})
    for candidate in (hv.get("ansible_host"), host):
        try:
            return ipaddress.ip_address(str(candidate))
        except ValueError:
            pass
    facts = hv.get("ansible_facts") or {}
    default = (facts.get("default_ipv4") or {}).get("address") or (hv.get("ansible_default_ipv4") or {}).get("address")
    if default:
        return ipaddress.ip_address(default)
    raise ValueError(
        f"host '{host}' has no IP address the firewall can use: set ansible_host to its IP, "
        f"or gather its facts in the same run"
    )


def host_names(host: str, hostvars: Mapping[str, Mapping[str, Any]], aliases: Iterable[str] = ()) -> list[str]:
    """What a host's certificate names: its inventory name, host name, FQDN, ansible_host, the
    service address its peers connect to (host_address) and the site's aliases. Not every
    address of the host: a container bridge or a second network's address is nobody's way to
    the service, and a certificate naming it could be presented there."""
    hv = hostvars.get(host, {})
    facts = hv.get("ansible_facts") or {}
    names = [host, facts.get("hostname"), facts.get("fqdn"), hv.get("ansible_host", host)]
    try:
        names.append(str(host_address(host, hostvars)))
    except ValueError:
        pass
    out: list[str] = []
    for name in [*names, *(aliases or ())]:
        if name and str(name) not in out:
            out.append(str(name))
    return out


def egress_destinations(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]],
                        admin_cidrs: Iterable[str] = ()) -> list[str]:
    """Where a host may open connections when its egress is filtered: every host of the
    inventory (its peers: component traffic, scrapes, gossip) and the admin networks (the
    controller, a mirror there), merged (IPv4 first)."""
    items = [str(host_address(h, hostvars)) for h in hosts]
    return collapse_networks([*items, *admin_cidrs])


def output_allow_errors(entries: Any) -> list[str]:
    """firewall_output_allow: [{destinations: [CIDR, ...], port?, protocol? (tcp | udp), comment?}]."""
    if not isinstance(entries, list):
        return [f"firewall_output_allow must be a list, got {type(entries).__name__}"]
    errors = []
    for index, entry in enumerate(entries):
        where = f"firewall_output_allow[{index}]"
        if not isinstance(entry, Mapping):
            errors.append(f"{where} must be a dict with destinations (and port, protocol, comment)")
            continue
        unknown = set(entry) - {"destinations", "port", "protocol", "comment"}
        if unknown:
            errors.append(f"{where}: unknown keys {sorted(unknown)} (destinations, port, protocol, comment)")
        nets = entry.get("destinations")
        if not isinstance(nets, list) or not nets:
            errors.append(f"{where}: destinations must be a non-empty list of networks (CIDR)")
        else:
            for net in nets:
                try:
                    ipaddress.ip_network(str(net), strict=False)
                except ValueError:
                    errors.append(f"{where}: '{net}' is not a network (write e.g. 192.0.2.10/32)")
        if "port" in entry:
            port = entry["port"]
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                errors.append(f"{where}: port must be 1..65535, got {port!r}")
        if entry.get("protocol", "tcp") not in ("tcp", "udp"):
            errors.append(f"{where}: protocol must be tcp or udp, got {entry.get('protocol')!r}")
        elif "protocol" in entry and "port" not in entry:
            errors.append(f"{where}: a protocol needs a port (without one, every port is open)")
    return errors


def collapse_networks(items: Iterable[str]) -> list[str]:
    """Addresses/CIDRs merged and deduplicated (IPv4 first): what nft would keep of the set."""
    nets = [ipaddress.ip_network(str(i).strip(), strict=False) for i in items if str(i).strip()]
    out = []
    for version in (4, 6):
        out += [str(n) for n in ipaddress.collapse_addresses(n for n in nets if n.version == version)]
    return out


def _members(group_names: Iterable[str], groups: Mapping[str, Iterable[str]]) -> list[str]:
    members: list[str] = []
    for group in group_names:
        for host in groups.get(group, ()):
            if host not in members:
                members.append(host)
    return members


def firewall_rules(
    ports: Mapping[str, Mapping[str, Any]],
    host: str,
    groups: Mapping[str, Iterable[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    client_cidrs: Iterable[str] = (),
    admin_cidrs: Iterable[str] = (),
    endpoint_cidrs: Mapping[str, Iterable[str]] | None = None,
) -> list[dict[str, Any]]:
    """The input rules of `host`: one per port it listens on, with the sources allowed.

    Sources are the addresses of the members of the entry's from_groups, plus client_cidrs for
    ports marked client and admin_cidrs for ports marked admin (administration APIs that are
    not published to users). endpoint_cidrs (platform_endpoint_cidrs: port name -> networks)
    gives one port its own user networks: they replace client_cidrs for that port (admin_cidrs
    still apply to admin ports), so a site can narrow a published endpoint or open an
    administration endpoint to one more network. A port nobody may reach gets no rule.
    """
    clients = [ipaddress.ip_network(str(c), strict=False) for c in client_cidrs]
    admins = [ipaddress.ip_network(str(c), strict=False) for c in admin_cidrs]
    own = {name: [ipaddress.ip_network(str(c), strict=False) for c in nets or ()]
           for name, nets in (endpoint_cidrs or {}).items()}
    host_groups = {g for g, members in groups.items() if host in members}
    rules = []
    for name, entry in sorted(ports.items()):
        listen = set(entry.get("groups", ()))
        if not (ALL in listen and host in groups.get(ALL, ()) or listen & host_groups):
            continue
        nets = []
        for peer in _members(entry.get("from_groups", ()), groups):
            nets.append(ipaddress.ip_network(host_address(peer, hostvars)))
        if name in own:
            nets.extend(own[name])
        elif entry.get("client"):
            nets.extend(clients)
        if entry.get("admin"):
            nets.extend(admins)
        nets = sorted(set(ipaddress.collapse_addresses([n for n in nets if n.version == 4]))) + sorted(
            set(ipaddress.collapse_addresses([n for n in nets if n.version == 6])))
        if not nets:
            continue
        rules.append({
            "name": name,
            "port": int(entry["port"]),
            "protocol": entry.get("protocol", "tcp"),
            "v4": [str(n) for n in nets if n.version == 4],
            "v6": [str(n) for n in nets if n.version == 6],
            "description": entry.get("description", ""),
        })
    return rules


def port_matrix_errors(ports: Mapping[str, Mapping[str, Any]], known_groups: Iterable[str]) -> list[str]:
    """Consistency of the port data itself: fields, groups, port range, protocol. Whether two
    services meet on one host depends on the inventory: see port_collisions."""
    errors = []
    known = set(known_groups) | {ALL}
    for name, entry in sorted(ports.items()):
        for field in ("port", "protocol", "groups", "from_groups", "client", "tls", "description"):
            if field not in entry:
                errors.append(f"platform_ports.{name}: missing '{field}'")
        port = entry.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            errors.append(f"platform_ports.{name}: port must be 1..65535, got {port!r}")
        if entry.get("protocol") not in ("tcp", "udp"):
            errors.append(f"platform_ports.{name}: protocol must be tcp or udp, got {entry.get('protocol')!r}")
        for field in ("groups", "from_groups"):
            unknown = set(entry.get(field, ())) - known
            if unknown:
                errors.append(f"platform_ports.{name}: unknown {field} {sorted(unknown)}")
    return errors


def port_collisions(ports: Mapping[str, Mapping[str, Any]], host: str, groups: Mapping[str, Iterable[str]]) -> list[str]:
    """Services that would listen on the same port and protocol on this host."""
    host_groups = {g for g, members in groups.items() if host in members} | {ALL}
    by_port: dict[tuple[int, str], list[str]] = {}
    for name, entry in sorted(ports.items()):
        if set(entry.get("groups", ())) & host_groups:
            by_port.setdefault((int(entry["port"]), entry.get("protocol", "tcp")), []).append(name)
    return [
        f"host '{host}': {' and '.join(names)} would all listen on {proto}/{port}; move one of them "
        f"to another host or change its port"
        for (port, proto), names in sorted(by_port.items()) if len(names) > 1
    ]


def port_errors(ports: Mapping[str, Mapping[str, Any]], groups: Mapping[str, Iterable[str]],
                known_groups: Iterable[str], endpoint_cidrs: Mapping[str, Any] | None = None) -> list[str]:
    """The port matrix's own consistency, then platform_endpoint_cidrs' port names, then every
    host's collisions: what preflight checks on the controller before any host is contacted.
    (The networks themselves are checked like every *_cidrs variable, with the variables.)"""
    errors = port_matrix_errors(ports, known_groups)
    if errors:
        return errors
    for name, nets in sorted((endpoint_cidrs or {}).items()):
        if name not in ports:
            close = difflib.get_close_matches(str(name), list(ports), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            errors.append(f"platform_endpoint_cidrs.{name}: no such port in platform_ports{hint}")
        elif not isinstance(nets, list):
            errors.append(f"platform_endpoint_cidrs.{name}: must be a list of networks (CIDR), "
                          f"got {type(nets).__name__}")
    if errors:
        return errors
    for host in sorted(groups.get(ALL, ())):
        errors += port_collisions(ports, host, groups)
    return errors


class FilterModule:
    """fdp_* security filters."""

    def filters(self):
        return {
            "fdp_stale_copies": stale_copies,
            "fdp_meshes": meshes,
            "fdp_mesh_errors": mesh_errors,
            "fdp_mesh_record": mesh_record,
            "fdp_stale_meshes": stale_meshes,
            "fdp_subject_alt_names": subject_alt_names,
            "fdp_host_names": host_names,
            "fdp_firewall_rules": firewall_rules,
            "fdp_port_matrix_errors": port_matrix_errors,
            "fdp_port_collisions": port_collisions,
            "fdp_port_errors": port_errors,
            "fdp_collapse_networks": collapse_networks,
            "fdp_egress_destinations": egress_destinations,
            "fdp_output_allow_errors": output_allow_errors,
        }
