"""Signing and verifying backpack credentials as VC-JWT (Open Badges 3.0, section 8.2).

A credential is signed as a compact JWS with Ed25519 (``alg: EdDSA``): the JOSE header carries
the public key as a JWK, the payload is the credential itself plus the registered claims
``iss`` (issuer id), ``jti`` (credential id), ``sub`` (the student's id) and ``nbf``
(``validFrom``). PyJWT does the JOSE work and ``cryptography`` the keys; Ed25519 signatures are
deterministic, so signing the same credential with the same key gives the same bytes.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Any

from mastery_cli.diagnostics import MasteryError, error


class SignatureProblem(Exception):
    """A token that is not a well-formed, correctly signed VC-JWT."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_private_key_pem() -> bytes:
    """A fresh Ed25519 private key as unencrypted PKCS#8 PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def load_private_key(path: Path, shown: str) -> Any:
    """The Ed25519 private key in a PEM file; MasteryError when it is not one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MasteryError(error("key-unreadable", f"cannot read the key: {exc.strerror}",
                                 shown)) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise MasteryError(error(
            "key-not-ed25519", "the key file is not an unencrypted Ed25519 private key (PEM)",
            shown, hint="make one with: mastery export ob3-key --out school-key.pem"))
    return key


def public_jwk(private_key: Any) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}


def _epoch(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def sign_credential(credential: dict[str, Any], private_key: Any) -> str:
    """The credential as a VC-JWT signed with ``private_key``."""
    import jwt

    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    subject = credential.get("credentialSubject") or {}
    student = next((i.get("identityHash") for i in subject.get("identifier") or []
                    if i.get("identityType") == "sisSourcedId"), None)
    payload = {**credential, "iss": issuer_id, "jti": credential.get("id"),
               "nbf": _epoch(str(credential.get("validFrom")))}
    if student is not None:
        payload["sub"] = student
    return jwt.encode(payload, private_key, algorithm="EdDSA",
                      headers={"typ": "JWT", "jwk": public_jwk(private_key)})


def verify_credential(token: str, public_key: Any | None = None) -> dict[str, Any]:
    """The credential inside a VC-JWT whose signature checks out (with ``public_key``, else the
    key in its header); SignatureProblem otherwise. Validity dates are not judged here."""
    import jwt
    from jwt.algorithms import OKPAlgorithm

    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "EdDSA":
            raise SignatureProblem(f"algorithm {header.get('alg')!r} is not EdDSA")
        key: Any = public_key
        if key is None:
            if not isinstance(header.get("jwk"), dict):
                raise SignatureProblem("the header has no public key (jwk)")
            key = OKPAlgorithm.from_jwk(header["jwk"])
        payload: dict[str, Any] = jwt.decode(
            token, key=key, algorithms=["EdDSA"],
            options={"verify_nbf": False, "verify_exp": False, "verify_iat": False,
                     "verify_aud": False})
    except jwt.PyJWTError as exc:
        raise SignatureProblem(str(exc)) from None
    for claim in ("iss", "jti", "sub", "nbf"):
        payload.pop(claim, None)
    return payload
