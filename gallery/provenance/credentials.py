"""The studio's C2PA signing credential.

Production sets C2PA_SIGN_CERT_FILE (leaf certificate followed by its intermediates, PEM,
root omitted) and C2PA_SIGN_KEY_FILE (the leaf's PKCS#8 private key). When both are unset, a
development credential is generated once under C2PA_DEV_DIR: a test root CA, an intermediate
and a leaf (EKU emailProtection, O="Studio development (TEST)"). It proves nothing about who
signed and never leaves the machine; add dev_root.pem to C2PA_TRUST_ANCHORS to see the
studio's own images as "trusted" locally.

Several processes (web workers, Celery workers, the stand-in API) may ask for the development
credential at the same moment; an exclusive file lock makes exactly one of them generate it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEV_ORGANISATION = "Studio development (TEST)"
DEV_ROOT_FILE = "dev_root.pem"
DEV_CHAIN_FILE = "dev_chain.pem"
DEV_KEY_FILE = "dev_signer.key"

# A leaf that expires soon is replaced (with a new root) so signing never fails on an old
# credential; images signed without a timestamp turn "expired" once their leaf expires anyway.
_RENEW_BEFORE = dt.timedelta(days=30)
_ROOT_DAYS = 20 * 365
_INTERMEDIATE_DAYS = 10 * 365
_LEAF_DAYS = 5 * 365


@dataclass(frozen=True)
class SigningCredential:
    alg: str  # "es256", "ps256", ... (c2pa C2paSigningAlg names, lower case)
    chain_pem: bytes  # leaf first, then intermediates
    key_pem: bytes
    tsa_url: str | None
    root_pem: bytes | None  # the development root (an extra trust anchor); None in production
    is_development: bool


def get_credential() -> SigningCredential:
    """The configured credential, or the development one (generated on first use)."""
    cert_file = getattr(settings, "C2PA_SIGN_CERT_FILE", None) or None
    key_file = getattr(settings, "C2PA_SIGN_KEY_FILE", None) or None
    alg = (getattr(settings, "C2PA_SIGN_ALG", None) or "es256").lower()
    tsa_url = getattr(settings, "C2PA_TSA_URL", None) or None
    if cert_file or key_file:
        if not (cert_file and key_file):
            raise ImproperlyConfigured(
                "Set both C2PA_SIGN_CERT_FILE and C2PA_SIGN_KEY_FILE, or neither "
                "(neither: a development credential is generated)."
            )
        return _load_configured(str(cert_file), str(key_file), alg, tsa_url)
    return _load_development(str(settings.C2PA_DEV_DIR), tsa_url)


@lru_cache(maxsize=4)
def _load_configured(cert_file: str, key_file: str, alg: str, tsa_url: str | None):
    try:
        chain_pem = Path(cert_file).read_bytes()
        key_pem = Path(key_file).read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"Cannot read the C2PA signing credential: {exc}") from exc
    return SigningCredential(alg, chain_pem, key_pem, tsa_url, None, False)


@lru_cache(maxsize=4)
def _load_development(directory: str, tsa_url: str | None) -> SigningCredential:
    paths = ensure_development_credential(Path(directory))
    return SigningCredential(
        alg="es256",
        chain_pem=paths.chain.read_bytes(),
        key_pem=paths.key.read_bytes(),
        tsa_url=tsa_url,
        root_pem=paths.root.read_bytes(),
        is_development=True,
    )


@dataclass(frozen=True)
class DevelopmentPaths:
    root: Path  # self-signed test root certificate (an anchor, never used to sign)
    chain: Path  # leaf + intermediate
    key: Path  # leaf private key, mode 0600


def ensure_development_credential(directory: Path) -> DevelopmentPaths:
    """Create the development credential in `directory` unless a usable one is there."""
    paths = DevelopmentPaths(
        directory / DEV_ROOT_FILE, directory / DEV_CHAIN_FILE, directory / DEV_KEY_FILE
    )
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Keep the credential out of version control even if var/ is not ignored.
    ignore = directory / ".gitignore"
    if not ignore.exists():
        _write_atomic(ignore, b"*\n", 0o644)
    with open(directory / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _usable(paths):
                _generate(paths)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return paths


def _usable(paths: DevelopmentPaths) -> bool:
    if not (paths.root.exists() and paths.chain.exists() and paths.key.exists()):
        return False
    try:
        leaf = x509.load_pem_x509_certificates(paths.chain.read_bytes())[0]
    except ValueError:
        return False
    return leaf.not_valid_after_utc - _RENEW_BEFORE > dt.datetime.now(dt.UTC)


def _generate(paths: DevelopmentPaths) -> None:
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP384R1())
    intermediate_key = ec.generate_private_key(ec.SECP384R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate(
        _name("Studio Development Test Root CA"),
        root_key.public_key(),
        _name("Studio Development Test Root CA"),
        root_key,
        now,
        _ROOT_DAYS,
        ca=True,
        path_length=None,
    )
    intermediate = _certificate(
        _name("Studio Development Test Intermediate CA"),
        intermediate_key.public_key(),
        root.subject,
        root_key,
        now,
        _INTERMEDIATE_DAYS,
        ca=True,
        path_length=0,
    )
    leaf = _certificate(
        _name("Studio Development Test Signer"),
        leaf_key.public_key(),
        intermediate.subject,
        intermediate_key,
        now,
        _LEAF_DAYS,
        ca=False,
        path_length=None,
    )
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # The CA keys are not kept: renewing makes a whole new chain, so they are never needed.
    # Chain last: a crash part-way leaves no chain file, so the next caller starts again.
    _write_atomic(paths.key, key_pem, 0o600)
    _write_atomic(paths.root, root.public_bytes(pem), 0o644)
    _write_atomic(paths.chain, leaf.public_bytes(pem) + intermediate.public_bytes(pem), 0o644)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(subject, public_key, issuer, issuer_key, now, days, *, ca, path_length):
    # Requirements from c2pa-rs certificate_profile.rs: AKI on every certificate, SKI on CAs,
    # digitalSignature and an accepted EKU on the leaf, keyCertSign only on CAs.
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
