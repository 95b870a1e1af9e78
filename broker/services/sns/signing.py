"""SNS message signatures: one RSA key and self-signed certificate per broker, kept in the database so that every
worker and node signs with the same key, verifiable against the certificate served at SigningCertURL.

SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over AWS's canonical "name\\nvalue\\n" string.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID

from broker.services.base import Slot
from broker.services.sns import store
from broker.storage.db import Database

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def self_signed(key: RSAPrivateKey, name: x509.Name, not_before: dt.datetime, not_after: dt.datetime) -> str:
    """A PEM certificate of `key` issued by itself (SNS's signing certificate, API Gateway's client certificates)."""
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _generate(bits: int) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert_pem = self_signed(key, name, now - dt.timedelta(days=1), now + dt.timedelta(days=3650))
    return {
        "key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "cert": cert_pem,
        "id": hashlib.sha256(cert_pem.encode()).hexdigest()[:32],
    }


class Signer:
    def __init__(self) -> None:
        self._key: RSAPrivateKey | None = None
        self.cert_pem = ""
        self.cert_id = ""

    def load(self, db: Database, bits: int) -> None:
        """Load the broker's key, creating it if this is the first process to need one."""
        material = db.read_sync(store.signing_material)
        if material is None:
            db.write_sync(store.keep_signing_material, json.dumps(_generate(bits)))  # the first worker's key wins
            material = db.read_sync(store.signing_material)
        if material is None:
            raise TypeError("the SNS signing key was stored but cannot be read back")
        data = json.loads(material)
        key = serialization.load_pem_private_key(data["key"].encode(), password=None)
        if not isinstance(key, RSAPrivateKey):
            raise TypeError("the stored SNS signing key is not an RSA key")
        self._key = key
        self.cert_pem = data["cert"]
        self.cert_id = data["id"]

    @property
    def cert_path(self) -> str:
        return f"/_broker/sns/SimpleNotificationService-{self.cert_id}.pem"

    def sign(self, fields: Mapping[str, str | None], version: str) -> str:
        names = CONFIRMATION_FIELDS if fields.get("Type") != "Notification" else NOTIFICATION_FIELDS
        text = "".join(f"{n}\n{fields[n]}\n" for n in names if fields.get(n) is not None)
        digest = hashes.SHA256() if version == "2" else hashes.SHA1()
        assert self._key is not None, "Signer.load() runs at start-up"
        return base64.b64encode(self._key.sign(text.encode(), padding.PKCS1v15(), digest)).decode()


SIGNER: Slot[Signer] = Slot("sns.signer")
