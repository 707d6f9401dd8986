"""Security foundation on real lab hosts: firewall flows by real connections, TLS material,
secrets, a -vvv rerun that changes and reveals nothing, and a certificate rotation.

The tests run in file order; the rotation tests come last."""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest
import testinfra
import yaml
from fdp_testinfra import changed_tasks, last_check_mode_run, playbook, recap_changed

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
INV_DIR = Path(INVENTORY).parent
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
NET = "10.231.40"
ADDR = {"sc1": f"{NET}.11", "sc2": f"{NET}.12", "sc3": f"{NET}.13", "sc4": f"{NET}.14"}
GROUPS = {
    "sc1": {"prometheus", "grafana", "alertmanager"},
    "sc2": {"minio", "kafka_controller", "kafka_broker", "flink_jobmanager"},
    "sc3": {"minio", "flink_taskmanager", "trino_coordinator", "hive_metastore", "metastore_db"},
    "sc4": set(),
}
JVM_HOSTS = {"sc2", "sc3"}
PORTS = yaml.safe_load((PROJECT / "roles/platform/defaults/main/ports.yml").read_text())["platform_ports"]


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


HOSTS = {name: get(name) for name in ADDR}


# The scenario's per-endpoint user networks (molecule.yml): they replace the client networks of
# their port.
_SCENARIO_VARS = yaml.safe_load((PROJECT / "molecule/security/molecule.yml").read_text())["provisioner"]["inventory"][
    "group_vars"]["all"]
ENDPOINT_CIDRS = _SCENARIO_VARS["platform_endpoint_cidrs"]
OUTSIDER = "10.231.40.14/32"
assert _SCENARIO_VARS["platform_client_cidrs"] == [OUTSIDER]


def outsider_may_reach(name: str, entry: dict) -> bool:
    if name in ENDPOINT_CIDRS:
        return OUTSIDER in ENDPOINT_CIDRS[name]
    return bool(entry["client"])


def expected_flows():
    """(listener, proto, port) -> set of source hosts that must get through, computed directly
    from the port data and the scenario's groups (independently of the firewall role's code)."""
    flows = {}
    for name, entry in PORTS.items():
        for listener, groups in GROUPS.items():
            listens = "all" in entry["groups"] and listener != "sc4" or groups & set(entry["groups"])
            if not listens:
                continue
            allowed = {h for h, g in GROUPS.items() if g & set(entry["from_groups"])}
            if outsider_may_reach(name, entry):
                allowed.add("sc4")  # the scenario's only user network
            key = (listener, entry["protocol"], entry["port"])
            flows[key] = flows.get(key, set()) | allowed
    return flows


def test_check_mode_after_converge_changed_nothing():
    run = last_check_mode_run()
    assert run["changed"] == [] and run["failed"] == []


@pytest.fixture(scope="module")
def listeners():
    flows = expected_flows()
    units = {}
    for name, host in HOSTS.items():
        specs = sorted({f"{proto}:{port}" for (listener, proto, port) in flows if listener == name})
        if not specs:
            continue
        unit = "fdp-probe-listen"
        host.run(f"systemctl stop {unit} 2>/dev/null; systemctl reset-failed {unit} 2>/dev/null")
        assert host.run(f"systemd-run --unit={unit} /usr/local/bin/fdp-probe listen {' '.join(specs)}").rc == 0
        units[name] = unit
    time.sleep(1)
    yield flows
    for name, unit in units.items():
        HOSTS[name].run(f"systemctl stop {unit}")


def test_declared_flows_open_and_everything_else_closed(listeners):
    flows = listeners
    failures = []
    for source, host in HOSTS.items():
        targets = [f"{ADDR[listener]}:{proto}:{port}" for (listener, proto, port) in flows if listener != source]
        result = json.loads(host.check_output(f"/usr/local/bin/fdp-probe check {' '.join(targets)}"))
        for (listener, proto, port), allowed in flows.items():
            if listener == source:
                continue
            want = source in allowed
            got = result[f"{ADDR[listener]}:{proto}:{port}"]
            if want != got:
                failures.append(f"{source} -> {listener} {proto}/{port}: expected {'open' if want else 'closed'}")
    assert not failures, "\n".join(failures)
    # Sanity: the matrix exercised both outcomes, member flows and outsider client access.
    assert any("sc4" in allowed for allowed in flows.values())
    assert any(allowed - {"sc4"} for allowed in flows.values())


def test_outsider_reaches_only_published_client_ports(listeners):
    flows = listeners
    client_ports = {(e["protocol"], e["port"]) for name, e in PORTS.items() if outsider_may_reach(name, e)}
    targets = [f"{ADDR[listener]}:{proto}:{port}" for (listener, proto, port) in flows if listener != "sc4"]
    result = json.loads(HOSTS["sc4"].check_output(f"/usr/local/bin/fdp-probe check {' '.join(targets)}"))
    opened = {t for t, ok in result.items() if ok}
    assert opened, "the outsider should reach the published client ports"
    for target in opened:
        _, proto, port = target.rsplit(":", 2)
        assert (proto, int(port)) in client_ports, f"outsider reached non-client port {target}"


def test_each_endpoint_has_its_own_user_networks(listeners):
    """Prometheus and Alertmanager are administration endpoints (admin networks only), Grafana is
    published to users; platform_endpoint_cidrs here opens Prometheus to the outsider's network
    and closes Grafana to every user network."""
    names = ("prometheus_web", "grafana_web", "alertmanager_web")
    targets = {name: f"{ADDR['sc1']}:tcp:{PORTS[name]['port']}" for name in names}
    result = json.loads(HOSTS["sc4"].check_output(f"/usr/local/bin/fdp-probe check {' '.join(targets.values())}"))
    reached = {name: result[target] for name, target in targets.items()}
    assert reached == {"prometheus_web": True, "grafana_web": False, "alertmanager_web": False}


def send_result(host, address: str, port: int) -> str:
    """A UDP datagram from `host`: 'sent', or the errno name sendto() met. A datagram the host's
    own output chain drops fails at once with EPERM; a TCP connect would only time out."""
    code = ("import errno, socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ntry:\n"
            f"    s.sendto(b'fdp', ('{address}', {port}))\n    print('sent')\n"
            "except OSError as e:\n    print(errno.errorcode.get(e.errno, str(e.errno)))\n")
    return host.check_output("python3 -c " + shlex.quote(code))


def test_egress_is_filtered_on_the_host_that_asks_for_it():
    """sc3 sets firewall_filter_output: a datagram to an address outside the platform, the admin
    network and its allow-list is refused on sc3 itself (EPERM: it never leaves), while sc2,
    without the egress filter, sends it; a platform host stays a destination. (The flow matrix
    above ran from sc3 too.)"""
    assert "chain output" in HOSTS["sc3"].check_output("nft list table inet fdp_filter")
    assert "chain output" not in HOSTS["sc2"].check_output("nft list table inet fdp_filter")
    nobody = f"{NET}.99"
    assert send_result(HOSTS["sc3"], nobody, 9) == "EPERM"
    assert send_result(HOSTS["sc2"], nobody, 9) == "sent"
    assert send_result(HOSTS["sc3"], ADDR["sc1"], 9) == "sent"  # a platform host
    listing = HOSTS["sc3"].check_output("nft list chain inet fdp_filter output")
    assert "policy drop" in listing and "192.0.2.10" in listing and "dport 443" in listing, listing


def test_ssh_only_from_the_admin_cidr():
    # The controller (10.231.40.1, the admin CIDR) gets in: every test here runs over SSH.
    for source in ("sc2", "sc4"):
        result = json.loads(HOSTS[source].check_output(f"/usr/local/bin/fdp-probe check {ADDR['sc1']}:tcp:22"))
        assert result == {f"{ADDR['sc1']}:tcp:22": False}, f"SSH from {source} must be closed"


def test_ruleset_is_validated_persistent_and_only_in_the_hosts():
    for host in HOSTS.values():
        assert host.run("nft -c -f /etc/nftables.conf").rc == 0
        assert host.service("nftables").is_enabled
        assert "policy drop" in host.check_output("nft list chain inet fdp_filter input")
    # The lab machine's own ruleset is untouched: the rules live in the hosts' namespaces.
    assert "fdp_filter" not in subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout


def test_ruleset_scope_forward_chain_neighbour_discovery_and_no_flush():
    for name, host in HOSTS.items():
        assert "policy drop" in host.check_output("nft list chain inet fdp_filter forward"), name
        listing = host.check_output("nft list chain inet fdp_filter input")
        # Neighbour discovery and router adverts only with hop limit 255 (from the link itself).
        assert re.search(r"nd-router-advert.*ip6 hoplimit 255 accept", listing), listing
        assert not re.search(r"nd-neighbor-solicit(?!.*hoplimit 255).*accept", listing), listing
        assert "udp dport 9094" not in listing  # Alertmanager's TLS gossip is TCP only
        assert not re.search(r"^\s*flush\s+ruleset", host.file("/etc/nftables.conf").content_string, re.M)


def test_other_tables_survive_a_restart_of_nftables():
    """Docker's, libvirt's or fail2ban's tables must outlive a reload of the boot ruleset."""
    host = HOSTS["sc3"]
    assert host.run("nft add table inet fdp_test_foreign").rc == 0
    try:
        assert host.run("systemctl restart nftables").rc == 0
        tables = host.check_output("nft list tables")
        assert "table inet fdp_test_foreign" in tables and "table inet fdp_filter" in tables
    finally:
        host.run("nft delete table inet fdp_test_foreign")
    assert "policy drop" in host.check_output("nft list chain inet fdp_filter input")


def test_a_deleted_or_edited_table_is_loaded_again_by_the_next_run():
    """The firewall fails closed: the decision comes from the live table, not from the file."""
    host = HOSTS["sc2"]
    run = ["--limit", "sc2", "--tags", "firewall"]
    foundation = str(PROJECT / "molecule/resources/foundation.yml")
    assert host.run("nft delete table inet fdp_filter").rc == 0
    # A rollback timer left behind by an interrupted run must not block the next one.
    assert host.run("systemd-run --unit=fdp-firewall-rollback --on-active=1h /bin/true").rc == 0
    try:
        check = playbook(foundation, *run, "--check")
        assert check.returncode == 0, check.stdout[-3000:]
        assert recap_changed(check.stdout)["sc2"] >= 1, "check mode must report the missing table"
        assert host.run("nft list table inet fdp_filter").rc != 0, "check mode loaded the table"
        healed = playbook(foundation, *run)
        assert healed.returncode == 0, healed.stdout[-3000:]
        assert recap_changed(healed.stdout)["sc2"] >= 1
        assert "policy drop" in host.check_output("nft list chain inet fdp_filter input")
        # Live drift: a rule added by hand is gone after the next run.
        assert host.run("nft add rule inet fdp_filter input tcp dport 4444 accept").rc == 0
        healed = playbook(foundation, *run)
        assert healed.returncode == 0, healed.stdout[-3000:]
        assert "dport 4444" not in host.check_output("nft list table inet fdp_filter")
        again = playbook(foundation, *run)
        assert again.returncode == 0 and recap_changed(again.stdout)["sc2"] == 0, again.stdout[-3000:]
    finally:
        host.run("systemctl stop fdp-firewall-rollback.timer")
        if host.run("nft list table inet fdp_filter").rc != 0:
            host.run("nft -f /etc/nftables.d/fdp.nft")
    assert host.run("systemctl is-active fdp-firewall-rollback.timer").stdout.strip() != "active"


def normalized(listing):
    return re.sub(r"\{ ([^,{}]+) \}", r"\1", listing)


def fresh_ssh(name: str) -> bool:
    """A new SSH connection from the controller (no connection sharing) gets a shell on the host."""
    lab = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "lab" / "ssh"
    argv = ["ssh", "-i", str(lab / "id_ed25519"), "-o", f"UserKnownHostsFile={lab / 'known_hosts'}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none",
            "-o", "ConnectTimeout=3", f"root@{ADDR[name]}", "true"]
    return subprocess.run(argv, capture_output=True, timeout=20, check=False).returncode == 0


def test_a_ruleset_that_locks_out_ssh_is_rolled_back_by_the_host():
    host = HOSTS["sc4"]
    table_before = host.check_output("nft list table inet fdp_filter")
    file_before = host.file("/etc/nftables.d/fdp.nft").content_string
    # Admin CIDR that excludes the controller, and no controller exception: SSH is cut off.
    bad = playbook(str(PROJECT / "molecule/resources/foundation.yml"), "--limit", "sc4", "--tags", "firewall", "-e",
                   '{"platform_admin_cidrs": ["192.0.2.0/24"], "firewall_allow_controller": false, '
                   '"firewall_rollback_seconds": 20}')
    assert bad.returncode != 0
    assert "Prove the controller still reaches the host" in bad.stdout
    # Fresh SSH connections only: a multiplexed one opened before the new rules stays
    # established (ct state established) and would prove nothing.
    assert not fresh_ssh("sc4"), "the bad ruleset did not cut SSH off"
    deadline = time.monotonic() + 90
    while not fresh_ssh("sc4"):
        assert time.monotonic() < deadline, "sc4 did not come back after the rollback period"
        time.sleep(3)
    host = get("sc4")
    # nft prints a set that it merged down to one element without braces: compare modulo that.
    table_after = host.check_output("nft list table inet fdp_filter")
    assert normalized(table_after) == normalized(table_before), "\n".join(
        difflib.unified_diff(table_before.splitlines(), table_after.splitlines(), "before", "after", lineterm=""))
    assert host.file("/etc/nftables.d/fdp.nft").content_string == file_before  # boot file restored too
    assert host.run("systemctl is-active fdp-firewall-rollback.timer").stdout.strip() != "active"


@pytest.mark.parametrize("name", sorted(ADDR))
def test_certificate_verifies_and_names_the_host(name):
    host = HOSTS[name]
    assert host.run("openssl verify -CAfile /etc/fdp/tls/ca.crt /etc/fdp/tls/host.crt").rc == 0
    sans = host.check_output("openssl x509 -in /etc/fdp/tls/host.crt -noout -ext subjectAltName")
    assert f"DNS:{name}" in sans and f"IP Address:{ADDR[name]}" in sans
    cas = host.check_output("ls /etc/fdp/tls/cas").split()
    assert cas == ["ca.crt"]
    assert host.file("/etc/fdp/tls/cas/ca.crt").content_string.strip() == (INV_DIR / "pki" / "ca.crt").read_text().strip()
    # The system trust store knows the platform CA only on the host that asked for it
    # (pki_system_trust_store); elsewhere a client without a CA option does not trust it.
    in_store = host.run("ls /usr/local/share/ca-certificates/ | grep '^fdp-'").stdout.split()
    in_bundle = host.run("openssl verify /etc/fdp/tls/host.crt").rc == 0
    if name == "sc4":
        assert in_store == ["fdp-molecule-sec-ca.crt"] and in_bundle
    else:
        assert in_store == [] and not in_bundle
    key = host.file("/etc/fdp/tls/host.key")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)  # each service reads its own copy


@pytest.mark.parametrize("name", sorted(JVM_HOSTS))
def test_keystores_open_with_their_generated_passwords(name):
    host = HOSTS[name]
    ks_pass = (INV_DIR / "credentials" / "hosts" / name / "keystore_password").read_text().strip()
    ts_pass = (INV_DIR / "credentials" / "truststore_password").read_text().strip()
    listing = host.check_output(f"keytool -list -storetype pkcs12 -keystore /etc/fdp/tls/keystore.p12 -storepass '{ks_pass}'")
    assert "PrivateKeyEntry" in listing and name in listing
    trust = host.check_output(f"keytool -list -storetype pkcs12 -keystore /etc/fdp/tls/truststore.p12 -storepass '{ts_pass}'")
    assert "trustedCertEntry" in trust
    assert host.run("keytool -list -storetype pkcs12 -keystore /etc/fdp/tls/keystore.p12 -storepass wrong").rc != 0
    ks = host.file("/etc/fdp/tls/keystore.p12")
    assert (ks.user, ks.group, ks.mode) == ("root", "root", 0o600)


def test_non_jvm_hosts_get_no_keystore():
    assert not HOSTS["sc1"].file("/etc/fdp/tls/keystore.p12").exists


def test_controller_secrets_are_private():
    creds = INV_DIR / "credentials"
    assert creds.stat().st_mode & 0o777 == 0o700
    files = [p for p in creds.rglob("*") if p.is_file()]
    assert len(files) >= 4  # CA passphrase, truststore, one keystore password per JVM host
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert (INV_DIR / "pki" / "ca.key").stat().st_mode & 0o777 == 0o600
    assert "ENCRYPTED" in (INV_DIR / "pki" / "ca.key").read_text()
    for host in HOSTS.values():
        assert not host.file("/etc/fdp/tls/ca.key").exists


def serials():
    return {n: h.check_output("openssl x509 -in /etc/fdp/tls/host.crt -noout -serial") for n, h in HOSTS.items()}


STATE = {}


def test_verbose_rerun_changes_nothing_reissues_nothing_and_logs_no_secret():
    before = serials()
    result = playbook(str(PROJECT / "molecule/resources/foundation.yml"), "-vvv")
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(recap_changed(result.stdout).values()) == {0}, changed_tasks(result.stdout)
    assert serials() == before
    secrets = [p.read_text().strip() for p in (INV_DIR / "credentials").rglob("*") if p.is_file()]
    assert secrets
    log = result.stdout + result.stderr
    for secret in secrets:
        assert secret not in log, "a generated secret appears in the -vvv log"
    # The key and keystore the converge verified are not parsed again (roles/pki: .verified).
    for task in ("pki : Create the host private key", "pki : Build the PKCS12 keystore (host key and chain)"):
        section = result.stdout.split(f"TASK [{task}]", 1)[1].split("TASK [", 1)[0]
        assert "skipping: [" in section and "ok: [" not in section and "changed: [" not in section, task
    STATE["serials"] = before


def public_keys() -> dict[str, str]:
    """Each host's public key (SHA-256 of its DER form), from the private key file."""
    return {name: host.check_output("openssl pkey -in /etc/fdp/tls/host.key -pubout -outform DER | sha256sum")
            for name, host in HOSTS.items()}


def test_rotation_reissues_every_certificate_and_key_and_restarts_nothing_that_is_not_installed():
    before = STATE.get("serials") or serials()
    keys_before = public_keys()
    result = playbook(str(PROJECT / "rotate-certs.yml"))  # new keys by default
    assert result.returncode == 0, result.stdout[-3000:]
    after = serials()
    assert all(after[n] != before[n] for n in ADDR), (before, after)
    # new keys (the default of rotate-certs.yml), each matching its certificate, in place
    keys_after = public_keys()
    assert all(keys_after[n] != keys_before[n] for n in ADDR), "a host kept its private key"
    for name, host in HOSTS.items():
        cert_key = host.check_output("openssl x509 -in /etc/fdp/tls/host.crt -noout -pubkey | openssl pkey -pubin "
                                     "-outform DER | sha256sum")
        assert cert_key == keys_after[name], f"{name}: the certificate is not for the new key"
        key = host.file("/etc/fdp/tls/host.key")
        assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
        assert not host.file("/etc/fdp/tls/host.key.next").exists
    # The MinIO account's own copy followed the new key (the storage stage's apply step).
    for name in ("sc2", "sc3"):
        copy = HOSTS[name].file("/etc/fdp/tls/private/minio/host.key")
        assert copy.content_string == HOSTS[name].file("/etc/fdp/tls/host.key").content_string, name
    # The apply stages ran (hosts here are in component groups) but found no unit installed.
    assert "PLAY [Monitoring - node_exporter on every host]" in result.stdout
    assert "Restart, reload or start - restart" not in result.stdout
    ca = INV_DIR / "pki" / "ca.crt"
    for name, host in HOSTS.items():
        host.check_output("cat > /tmp/ca.pem <<'EOF'\n" + ca.read_text() + "EOF")
        assert host.run("openssl verify -CAfile /tmp/ca.pem /etc/fdp/tls/host.crt").rc == 0, name


def fingerprint(pem_path_or_text, on_host=None):
    cmd = ["openssl", "x509", "-noout", "-fingerprint", "-sha256"]
    if on_host is not None:
        return on_host.check_output(" ".join(cmd) + f" -in {pem_path_or_text}")
    return subprocess.run(cmd, input=Path(pem_path_or_text).read_text(), capture_output=True, text=True).stdout.strip()


def bundle_count(host):
    return int(host.check_output("grep -c 'BEGIN CERTIFICATE' /etc/fdp/tls/ca.crt"))


def mesh_trust(host):
    """The subjects of the CAs in the flink mesh's truststore (sc2 and sc3 are in the mesh)."""
    ts_pass = (INV_DIR / "credentials" / "truststore_password").read_text().strip()
    listing = host.check_output(f"keytool -list -v -storetype pkcs12 -keystore /etc/fdp/tls/mesh-flink-trust.p12 "
                                f"-storepass '{ts_pass}'")
    return sorted(re.findall(r"^Owner: (.+)$", listing, re.M))


def subject(pem_path):
    out = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253"],
                         input=Path(pem_path).read_text(), capture_output=True, text=True, check=True).stdout
    return out.strip().removeprefix("subject=")


def test_ca_rollover_keeps_both_cas_trusted_and_reissues_from_the_new_one():
    pki = INV_DIR / "pki"
    old_ca = fingerprint(pki / "ca.crt")
    old_mesh_ca = fingerprint(pki / "mesh-flink-ca.crt")
    result = playbook(str(PROJECT / "rotate-ca.yml"))
    assert result.returncode == 0, result.stdout[-3000:]
    # Trust first, everywhere, then reissue; each step followed by the components' apply stages.
    trust = result.stdout.index("PLAY [CA rollover - trust the next CA on every host]")
    reissue = result.stdout.index("PLAY [CA rollover - reissue host certificates from the new CA]")
    assert trust < result.stdout.index("PLAY [Monitoring - node_exporter on every host]", trust) < reissue
    new_ca = fingerprint(pki / "ca.crt")
    assert new_ca != old_ca and fingerprint(pki / "ca-previous.crt") == old_ca
    assert not (pki / "ca-next.crt").exists()
    for name, host in HOSTS.items():
        assert bundle_count(host) == 2  # overlap: old and new CA trusted
        assert host.check_output("ls /etc/fdp/tls/cas").split() == ["ca-previous.crt", "ca.crt"]
        in_store = host.run("ls /usr/local/share/ca-certificates/ | grep '^fdp-'").stdout.split()
        assert in_store == (["fdp-molecule-sec-ca-previous.crt", "fdp-molecule-sec-ca.crt"] if name == "sc4" else [])
        host.check_output("cat > /tmp/new-ca.pem <<'EOF'\n" + (pki / "ca.crt").read_text() + "EOF")
        assert host.run("openssl verify -CAfile /tmp/new-ca.pem /etc/fdp/tls/host.crt").rc == 0, name
    for name in JVM_HOSTS:
        ts_pass = (INV_DIR / "credentials" / "truststore_password").read_text().strip()
        listing = HOSTS[name].check_output(
            f"keytool -list -storetype pkcs12 -keystore /etc/fdp/tls/truststore.p12 -storepass '{ts_pass}'")
        assert listing.count("trustedCertEntry") == 2
    # The flink mesh's own CA rolled with it: a new mesh CA signs, the old one is still trusted.
    assert fingerprint(pki / "mesh-flink-ca.crt") not in ("", old_mesh_ca)
    assert fingerprint(pki / "mesh-flink-ca-previous.crt") == old_mesh_ca
    assert not (pki / "mesh-flink-ca-next.crt").exists()
    mesh_cas = sorted([subject(pki / "mesh-flink-ca.crt"), subject(pki / "mesh-flink-ca-previous.crt")])
    for name in ("sc2", "sc3"):
        assert mesh_trust(HOSTS[name]) == mesh_cas, name
        HOSTS[name].check_output("cat > /tmp/new-mesh-ca.pem <<'EOF'\n" + (pki / "mesh-flink-ca.crt").read_text() + "EOF")
        assert HOSTS[name].run("openssl verify -CAfile /tmp/new-mesh-ca.pem /etc/fdp/tls/mesh-flink.crt").rc == 0, name
    assert not HOSTS["sc1"].file("/etc/fdp/tls/mesh-flink-trust.p12").exists  # not in the mesh


def test_retiring_the_previous_ca_ends_the_overlap():
    result = playbook(str(PROJECT / "retire-ca.yml"))
    assert result.returncode == 0, result.stdout[-3000:]
    pki = INV_DIR / "pki"
    assert not (pki / "ca-previous.crt").exists() and len(list((pki / "retired").glob("ca-*.crt"))) == 1
    assert not (pki / "mesh-flink-ca-previous.crt").exists()
    assert len(list((pki / "retired").glob("mesh-flink-ca-*.crt"))) == 1
    for name in ("sc2", "sc3"):
        assert mesh_trust(HOSTS[name]) == [subject(pki / "mesh-flink-ca.crt")], name
    for name, host in HOSTS.items():
        assert bundle_count(host) == 1
        assert host.check_output("ls /etc/fdp/tls/cas").split() == ["ca.crt"]
        in_store = host.run("ls /usr/local/share/ca-certificates/ | grep '^fdp-'").stdout.split()
        assert in_store == (["fdp-molecule-sec-ca.crt"] if name == "sc4" else [])
        assert host.run("openssl verify -CAfile /etc/fdp/tls/ca.crt /etc/fdp/tls/host.crt").rc == 0


def test_rerun_after_rotation_changes_nothing():
    before = serials()
    result = playbook(str(PROJECT / "molecule/resources/foundation.yml"))
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(recap_changed(result.stdout).values()) == {0}, changed_tasks(result.stdout)
    assert serials() == before
