"""The host side of roles/pki (trust.yml with verified.yml, certificate.yml, keystores.yml, record.yml) run on
the controller against a scratch TLS directory: a run after a converge parses neither the key nor the keystore
(the modules are skipped on the record of the previous run) and installs no CA (the find shows them in place),
and every kind of damage the record would hide is still healed - a damaged key gets a new key with a
certificate for it and a new keystore, a re-permissioned key its mode back, a replaced keystore is rebuilt, an
edited or re-permissioned CA file is installed again and a CA no longer trusted removed."""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpers import run_playbook

PLAY = """
- name: The host side of roles/pki
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Install the trusted CAs and read the record
      ansible.builtin.include_role:
        name: pki
        tasks_from: trust.yml
        public: true  # the role's variables for the condition of the record below, as in main.yml
    - name: Issue the host certificate
      ansible.builtin.include_role:
        name: pki
        tasks_from: certificate.yml
    - name: Build the keystores
      ansible.builtin.include_role:
        name: pki
        tasks_from: keystores.yml
    - name: Internal meshes
      ansible.builtin.include_role:
        name: pki
        tasks_from: mesh.yml
      loop: "{{ _pki_meshes_stale }}"
      loop_control:
        loop_var: _pki_mesh
    - name: Record
      ansible.builtin.include_role:
        name: pki
        tasks_from: record.yml
      when: _pki_record_stale or (_pki_mesh_signed is defined and _pki_mesh_signed is not skipped)
    - name: Copies
      ansible.builtin.include_role:
        name: pki
        tasks_from: copies.yml
"""
CA_PASSPHRASE = b"unit-ca-passphrase-0123456789"


def make_ca(directory: Path, stem: str = "ca") -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"unit {stem}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    (directory / f"{stem}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(CA_PASSPHRASE)))
    (directory / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture
def site(tmp_path):
    make_ca(tmp_path)
    tls = tmp_path / "tls"
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    extra = {
        "platform_tls_dir": str(tls), "platform_service_group": "root", "platform_environment": "unit",
        "pki_key_size": 2048,
        "_pki_ca_cert": str(tmp_path / "ca.crt"), "_pki_ca_key": str(tmp_path / "ca.key"),
        "_pki_ca_passphrase": CA_PASSPHRASE.decode(), "_pki_ca_pem": (tmp_path / "ca.crt").read_text().strip(),
        "_pki_bundle_pem": (tmp_path / "ca.crt").read_text().strip() + "\n",
        "_pki_sans": ["DNS:localhost", "IP:127.0.0.1"], "_pki_java": True,
        "_pki_trusted": [{"alias": "ca", "path": str(tmp_path / "ca.crt")}],
        "_pki_truststore_stale": False,  # the truststore (keytool) is not under test here
        "_pki_keystore_password": "unit-keystore-password",
        "platform_pki_dir": str(tmp_path), "_pki_host_meshes": [],
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }
    (tmp_path / "vars.json").write_text(json.dumps(extra), encoding="utf-8")

    def run():
        result = run_playbook(str(tmp_path / "play.yml"), "localhost,", "-e", f"@{tmp_path / 'vars.json'}")
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        return result.stdout

    return tls, run


def outcome(stdout: str, task: str) -> str:
    """ok / changed / skipping of a task in the default callback's output."""
    section = stdout.split(f"TASK [pki : {task}]", 1)[1]
    return re.search(r"^(ok|changed|skipping):", section, re.M).group(1)


def changed(stdout: str) -> int:
    return int(re.search(r"localhost\s*: ok=\d+\s+changed=(\d+)", stdout).group(1))


def public_key(pem: bytes):
    return serialization.load_pem_private_key(pem, None).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def cert_public_key(tls: Path):
    return x509.load_pem_x509_certificate((tls / "host.crt").read_bytes()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def keystore_certificate(tls: Path) -> bytes:
    from cryptography.hazmat.primitives.serialization import pkcs12
    store = pkcs12.load_pkcs12((tls / "keystore.p12").read_bytes(), b"unit-keystore-password")
    return store.cert.certificate.public_bytes(serialization.Encoding.PEM)


def test_a_rerun_parses_nothing_yet_heals_a_damaged_key_a_loosened_mode_and_a_replaced_keystore(site):
    tls, run = site
    first = run()
    assert outcome(first, "Create the host private key") == "changed"
    record = (tls / ".verified").read_text().split()
    assert record[0] == "fdp-pki-record" and record[3:5] == ["RSA", "2048"] and "localhost" in record
    assert "unit-keystore-password" not in (tls / ".verified").read_text()
    assert oct((tls / ".verified").stat().st_mode & 0o777) == "0o600"
    second = run()
    assert changed(second) == 0, second[-3000:]
    assert outcome(second, "Create the host private key") == "skipping"
    assert outcome(second, "Build the PKCS12 keystore (host key and chain)") == "skipping"
    assert outcome(second, "Issue the host certificate (with key rotation, for a new key)") == "skipping"
    assert "TASK [pki : Sign the host certificate with the CA]" not in second
    assert public_key((tls / "host.key").read_bytes()) == cert_public_key(tls)

    # A damaged key: a new key, a certificate for it, a keystore with both.
    (tls / "host.key").write_text("not a key\n")
    healed = run()
    assert outcome(healed, "Create the host private key") == "changed"
    assert outcome(healed, "Sign the host certificate with the CA") == "changed"
    assert public_key((tls / "host.key").read_bytes()) == cert_public_key(tls)
    assert keystore_certificate(tls) == (tls / "host.crt").read_bytes()

    # A loosened key mode (the key itself is kept) and a replaced keystore.
    key_before = (tls / "host.key").read_bytes()
    os.chmod(tls / "host.key", 0o644)
    (tls / "keystore.p12").write_bytes(b"")
    healed = run()
    assert outcome(healed, "Create the host private key") == "changed"
    assert outcome(healed, "Build the PKCS12 keystore (host key and chain)") == "changed"
    for private in ("host.key", "keystore.p12"):  # root's alone: each service reads its own copy
        assert oct((tls / private).stat().st_mode & 0o777) == "0o600", private
        assert (tls / private).stat().st_gid == 0, private
    assert (tls / "host.key").read_bytes() == key_before, "a mode change must not replace the key"
    assert keystore_certificate(tls) == (tls / "host.crt").read_bytes()
    again = run()
    assert changed(again) == 0, again[-3000:]


def test_other_key_settings_send_the_key_through_the_module(site):
    tls, run = site
    run()
    vars_file = tls.parent / "vars.json"
    settings = json.loads(vars_file.read_text())
    settings["pki_key_size"] = 3072
    vars_file.write_text(json.dumps(settings))
    result = run()
    assert outcome(result, "Create the host private key") == "changed"
    assert serialization.load_pem_private_key((tls / "host.key").read_bytes(), None).key_size == 3072
    assert public_key((tls / "host.key").read_bytes()) == cert_public_key(tls)


def test_the_trusted_cas_are_left_alone_when_in_place_and_healed_when_not(site):
    tls, run = site
    first = run()
    assert outcome(first, "Install the CA bundle") == "changed"
    assert (tls / "cas" / "ca.crt").read_bytes() == (tls.parent / "ca.crt").read_bytes()
    second = run()
    assert changed(second) == 0, second[-3000:]
    assert outcome(second, "Install the trusted CAs") == "skipping"
    assert "TASK [pki : Install the CA bundle]" not in second

    # A loosened mode, an edited CA and a CA no longer trusted: each brings the CAs back, and the
    # keystore (whose chain is cas/ca.crt) is checked again.
    os.chmod(tls / "ca.crt", 0o666)
    (tls / "cas" / "ca.crt").write_text("edited\n")
    (tls / "cas" / "ca-previous.crt").write_text("retired\n")
    healed = run()
    assert outcome(healed, "Install the CA bundle") == "changed"
    assert outcome(healed, "Install each trusted CA") == "changed"
    # (a loop over the aliases not trusted, in no fixed order: ca-previous is the one removed)
    assert re.search(r"^changed: \[localhost\] => \(item=ca-previous\)",
                     healed.split("TASK [pki : Remove CAs that are no longer trusted]", 1)[1].split("TASK [", 1)[0], re.M)
    assert outcome(healed, "Build the PKCS12 keystore (host key and chain)") != "skipping"
    assert oct((tls / "ca.crt").stat().st_mode & 0o777) == "0o644"
    assert (tls / "cas" / "ca.crt").read_bytes() == (tls.parent / "ca.crt").read_bytes()
    assert not (tls / "cas" / "ca-previous.crt").exists()
    again = run()
    assert changed(again) == 0, again[-3000:]
    assert outcome(again, "Install the trusted CAs") == "skipping"


def test_the_services_copies_follow_a_new_key_and_are_healed_when_edited(site):
    """Each service's own copy (private/<account>/<file>, made by the service skeleton) follows
    its original when a key is replaced (here: other key settings, as a rotation would) and
    when the copy itself was edited; a rerun copies nothing; a file that is no copy is ignored."""
    tls, run = site
    run()
    account = tls / "private" / "daemon"
    account.mkdir(parents=True)
    for name in ("host.key", "host.crt", "keystore.p12"):
        (account / name).write_bytes((tls / name).read_bytes())
        os.chown(account / name, 0, 1)  # root:daemon, as the skeleton leaves them
        os.chmod(account / name, 0o640)
    (account / "notes.txt").write_text("not a copy\n")
    assert outcome(run(), "Bring the services' own copies of the key material up to date") == "skipping"

    vars_file = tls.parent / "vars.json"
    settings = json.loads(vars_file.read_text())
    settings["pki_key_size"] = 3072  # a new key, certificate and keystore
    vars_file.write_text(json.dumps(settings))
    result = run()
    assert outcome(result, "Bring the services' own copies of the key material up to date") == "changed"
    for name in ("host.key", "host.crt", "keystore.p12"):
        assert (account / name).read_bytes() == (tls / name).read_bytes(), name
        assert ((account / name).stat().st_gid, oct((account / name).stat().st_mode & 0o777)) == (1, "0o640"), name

    (account / "host.key").write_text("edited\n")
    assert outcome(run(), "Bring the services' own copies of the key material up to date") == "changed"
    assert (account / "host.key").read_bytes() == (tls / "host.key").read_bytes()
    again = run()
    assert changed(again) == 0, again[-3000:]
    assert (account / "notes.txt").read_text() == "not a copy\n"


def test_a_mesh_gets_its_own_ca_key_and_truststore_follows_the_host_certificate_and_heals(site):
    """An internal mesh (platform_tls_meshes): a key of its own, a certificate from the mesh CA,
    not the platform CA, a keystore with both and a truststore holding the mesh CA alone; a rerun
    changes nothing; a key rotation gives the mesh a new key and certificate too (and the service's
    copy follows); a tampered truststore is built again."""
    import subprocess

    from cryptography.hazmat.primitives.serialization import pkcs12

    tls, run = site
    make_ca(tls.parent, "mesh-flink-ca")
    vars_file = tls.parent / "vars.json"
    settings = json.loads(vars_file.read_text())
    settings.update({"_pki_host_meshes": ["flink"], "_pki_mesh_ca_passphrase": CA_PASSPHRASE.decode(),
                     "_pki_truststore_password": "unit-truststore-password"})
    vars_file.write_text(json.dumps(settings))
    first = run()
    assert outcome(first, "Create the mesh private key - flink") == "changed"
    mesh_ca = x509.load_pem_x509_certificate((tls.parent / "mesh-flink-ca.crt").read_bytes())
    platform_ca = x509.load_pem_x509_certificate((tls.parent / "ca.crt").read_bytes())

    def mesh_cert():
        return x509.load_pem_x509_certificate((tls / "mesh-flink.crt").read_bytes())

    cert = mesh_cert()
    assert cert.issuer == mesh_ca.subject != platform_ca.subject
    cert.verify_directly_issued_by(mesh_ca)
    assert public_key((tls / "mesh-flink.key").read_bytes()) != public_key((tls / "host.key").read_bytes())
    store = pkcs12.load_pkcs12((tls / "mesh-flink.p12").read_bytes(), b"unit-keystore-password")
    assert store.cert.certificate == cert
    assert [c.certificate for c in store.additional_certs] == [mesh_ca]
    for name, mode in (("mesh-flink.key", "0o600"), ("mesh-flink.p12", "0o600"), ("mesh-flink-trust.p12", "0o644"),
                       (".mesh-flink.verified", "0o600")):
        assert oct((tls / name).stat().st_mode & 0o777) == mode, name
        assert (tls / name).stat().st_uid == 0, name

    def trusted():
        listing = subprocess.run(["keytool", "-list", "-v", "-keystore", str(tls / "mesh-flink-trust.p12"),
                                  "-storetype", "PKCS12", "-storepass", "unit-truststore-password"],
                                 capture_output=True, text=True, check=True).stdout
        return re.findall(r"^Alias name: (.+)$", listing, re.M), re.findall(r"^Owner: (.+)$", listing, re.M)

    assert trusted() == (["fdp-unit-mesh-flink"], ["CN=unit mesh-flink-ca"])

    again = run()
    assert changed(again) == 0, again[-3000:]
    assert "TASK [pki : Create the mesh private key - flink]" not in again

    # The service's own copy, then a key rotation: new host key, new mesh key and certificate.
    account = tls / "private" / "daemon"
    account.mkdir(parents=True)
    (account / "mesh-flink.p12").write_bytes((tls / "mesh-flink.p12").read_bytes())
    mesh_key_before = (tls / "mesh-flink.key").read_bytes()
    settings.update({"pki_force_reissue": True, "pki_rotate_keys": True})
    vars_file.write_text(json.dumps(settings))
    rotated = run()
    assert outcome(rotated, "Create the mesh private key - flink") == "changed"
    assert (tls / "mesh-flink.key").read_bytes() != mesh_key_before
    assert public_key((tls / "mesh-flink.key").read_bytes()) == mesh_cert().public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    mesh_cert().verify_directly_issued_by(mesh_ca)
    assert (account / "mesh-flink.p12").read_bytes() == (tls / "mesh-flink.p12").read_bytes()
    settings.update({"pki_force_reissue": False, "pki_rotate_keys": False})
    vars_file.write_text(json.dumps(settings))

    # A truststore with a CA slipped in (the platform's) is built again with the mesh CA alone;
    # nothing else is made anew after the rotation.
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "intruder", "-file", str(tls.parent / "ca.crt"),
                    "-keystore", str(tls / "mesh-flink-trust.p12"), "-storetype", "PKCS12",
                    "-storepass", "unit-truststore-password"], capture_output=True, check=True)
    healed = run()
    assert outcome(healed, "Build the mesh truststore, the mesh's CAs alone - flink") == "changed"
    assert "TASK [pki : Sign the host certificate with the CA]" not in healed
    assert trusted() == (["fdp-unit-mesh-flink"], ["CN=unit mesh-flink-ca"])


ROLL = """
- name: A CA rollover step on the controller (rotate-ca.yml, retire-ca.yml)
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Rollover
      ansible.builtin.include_role:
        name: pki
        tasks_from: rollover.yml
"""


def test_a_mesh_ca_rolls_over_with_an_overlap_in_which_old_and_new_processes_accept_each_other(site):
    """rotate-ca.yml's steps for a mesh CA (rollover_mesh.yml): prepare makes a next mesh CA that the
    mesh's hosts trust before it signs; promote makes it sign and keeps the old one trusted; retire
    ends the overlap. At each step the certificate a restarted process presents is accepted by the
    trust of a process not restarted yet, and the other way round, so the restarts can roll."""
    import subprocess

    tls, run = site
    pki = tls.parent
    make_ca(pki, "mesh-flink-ca")
    (pki / "roll.yml").write_text(ROLL, encoding="utf-8")
    vars_file = pki / "vars.json"
    settings = json.loads(vars_file.read_text())
    settings.update({"_pki_host_meshes": ["flink"], "_pki_play_meshes": ["flink"],
                     "_pki_mesh_ca_passphrase": CA_PASSPHRASE.decode(), "_pki_ca_passphrase": CA_PASSPHRASE.decode(),
                     "_pki_truststore_password": "unit-truststore-password"})
    vars_file.write_text(json.dumps(settings))

    def roll(step):
        result = run_playbook(str(pki / "roll.yml"), "localhost,", "-e", f"@{vars_file}",
                              "-e", f"pki_rollover_step={step}")
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

    def trusted():
        listing = subprocess.run(["keytool", "-list", "-rfc", "-keystore", str(tls / "mesh-flink-trust.p12"),
                                  "-storetype", "PKCS12", "-storepass", "unit-truststore-password"],
                                 capture_output=True, text=True, check=True).stdout
        aliases = re.findall(r"^Alias name: (.+)$", listing, re.M)
        return aliases, x509.load_pem_x509_certificates(listing.encode())

    def accepts(cas, cert_path):
        """Whether a truststore holding `cas` accepts the certificate (signed by one of them)."""
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        for ca in cas:
            try:
                cert.verify_directly_issued_by(ca)
                return True
            except (ValueError, TypeError, InvalidSignature):
                continue
        return False

    def ca(name):
        return x509.load_pem_x509_certificate((pki / name).read_bytes())

    run()
    first_ca = ca("mesh-flink-ca.crt")
    old_trust = trusted()[1]
    assert trusted()[0] == ["fdp-unit-mesh-flink"]

    roll("prepare")
    next_ca = ca("mesh-flink-ca-next.crt")
    assert next_ca.subject != first_ca.subject
    run()  # the trust step: the next mesh CA is trusted, the certificate still from the current one
    aliases, step1_trust = trusted()
    assert sorted(aliases) == ["fdp-unit-mesh-flink", "fdp-unit-mesh-flink-next"]
    assert accepts(old_trust, tls / "mesh-flink.crt") and accepts(step1_trust, tls / "mesh-flink.crt")
    step1_cert = tls.parent / "step1.crt"
    step1_cert.write_bytes((tls / "mesh-flink.crt").read_bytes())

    roll("promote")
    assert ca("mesh-flink-ca.crt") == next_ca and ca("mesh-flink-ca-previous.crt") == first_ca
    assert not (pki / "mesh-flink-ca-next.crt").exists()
    run()  # the reissue step: the certificate from the new mesh CA, the old one still trusted
    aliases, step2_trust = trusted()
    assert sorted(aliases) == ["fdp-unit-mesh-flink", "fdp-unit-mesh-flink-previous"]
    assert x509.load_pem_x509_certificate((tls / "mesh-flink.crt").read_bytes()).issuer == next_ca.subject
    # A process restarted in this step and one still on the trust step's material accept each other.
    assert accepts(step1_trust, tls / "mesh-flink.crt") and accepts(step2_trust, step1_cert)
    assert (tls / "mesh-flink-ca.crt").read_bytes().strip() == (pki / "mesh-flink-ca.crt").read_bytes().strip()

    roll("retire")
    assert not (pki / "mesh-flink-ca-previous.crt").exists()
    assert len(list((pki / "retired").glob("mesh-flink-ca-*.crt"))) == 1
    run()
    aliases, final_trust = trusted()
    assert aliases == ["fdp-unit-mesh-flink"] and final_trust == [next_ca]
    assert not accepts(final_trust, step1_cert)  # the old mesh CA's certificates are refused now
    again = run()
    assert changed(again) == 0, again[-3000:]
