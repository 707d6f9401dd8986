"""Lookup fdp_secret: the platform's one way to get a secret, by name.

    lookup('fdp_secret', 'prometheus_admin_password')
    lookup('fdp_secret', 'keystore_password')              # per host (registry: per_host)
    lookup('fdp_secret', 'bcrypt_salt/prometheus/admin')   # a family member (registry: family)

Every name is declared in platform_credentials (roles/platform/defaults/main/credentials.yml):
what it is for, its length and alphabet, whether each host has its own. The value is, in order:

1. platform_secrets[<name>] when the site supplies it (e.g. from Ansible Vault); shorter than
   the entry's min_length is an error;
2. else the file platform_credentials_dir/<name> (per host: hosts/<host>/<name>), generated once
   by ansible.builtin.password with the entry's length and characters (0600, directory 0700).

A derived secret (registry: derive) is computed from other secrets, never stored: derive
jwt_hs512 is a JSON Web Token signed with HMAC-SHA512 by the secret named `key`, with the claims
sub (the secret named `subject`), iss (`issuer`) and exp (`expires`, a fixed time, so the token is
the same on every run) - MinIO's Prometheus bearer token, as `mc admin prometheus generate`
makes it.

Producers and consumers ask by the same name, so no role reads another role's variables for a
secret. An unknown name is an error with a did-you-mean.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import hmac
import json
import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from ansible.plugins.lookup import LookupBase

DOCUMENTATION = """
name: fdp_secret
short_description: a named platform secret, supplied by the site or generated once
description:
  - Returns the value of each named secret declared in platform_credentials, from
    platform_secrets when the site supplies it, else from a file under platform_credentials_dir
    generated once with ansible.builtin.password.
options:
  _terms:
    description: secret names (a family member is <family>/<member>)
    required: true
"""

_CHARS = {
    "alnum": ["ascii_letters", "digits"],
    # bcrypt's own base64 alphabet, for salts
    "bcrypt": ["ascii_letters", "digits", "./"],
    "hex": ["hexdigits"],
}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        registry = self._var(variables, "platform_credentials") or {}
        supplied = self._var(variables, "platform_secrets") or {}
        values = []
        for term in terms:
            name = str(term).strip()
            family = name.split("/", 1)[0]
            spec = registry.get(name) or registry.get(family)
            if not spec or (name != family and not spec.get("family")):
                close = difflib.get_close_matches(family, sorted(registry), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise AnsibleLookupError(f"fdp_secret: '{name}' is not declared in platform_credentials{hint}")
            if supplied.get(name) not in (None, ""):
                value = str(self._templar.template(supplied[name]))
                if len(value) < int(spec.get("min_length", 16)):
                    raise AnsibleLookupError(
                        f"fdp_secret: platform_secrets.{name} is shorter than {spec.get('min_length', 16)} characters")
                values.append(value)
                continue
            if spec.get("derive"):
                values.append(self._derived(name, spec, variables))
                continue
            values.append(self._generated(name, spec, variables))
        return values

    def _derived(self, name, spec, variables):
        if spec["derive"] != "jwt_hs512":
            raise AnsibleLookupError(f"fdp_secret: platform_credentials.{name}.derive must be jwt_hs512")
        subject, key = self.run([spec["subject"], spec["key"]], variables)
        return jwt_hs512({"exp": int(spec["expires"]), "iss": str(spec["issuer"]), "sub": subject}, key)

    def _var(self, variables, name):
        if name not in variables:
            return None
        return self._templar.template(variables[name])

    def _generated(self, name, spec, variables):
        base = self._var(variables, "platform_credentials_dir")
        if not base:
            raise AnsibleLookupError("fdp_secret: platform_credentials_dir is not set")
        if spec.get("per_host"):
            path = os.path.join(base, "hosts", str(variables["inventory_hostname"]), name)
        else:
            path = os.path.join(base, name)
        chars = spec.get("chars", "alnum")
        if chars not in _CHARS:
            raise AnsibleLookupError(f"fdp_secret: platform_credentials.{name}.chars must be one of {', '.join(_CHARS)}")
        password = lookup_loader.get("ansible.builtin.password", loader=self._loader, templar=self._templar)
        return password.run([path], variables, length=int(spec.get("length", 32)), chars=_CHARS[chars])[0]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_hs512(claims: dict, key: str) -> str:
    """A compact JWT (RFC 7519) with the HS512 algorithm, claims in sorted key order."""
    header = _b64url(json.dumps({"alg": "HS512", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signature = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha512).digest()
    return f"{header}.{payload}.{_b64url(signature)}"
