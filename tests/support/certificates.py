"""Certificate authorities and server certificates made on the spot with `cryptography`, written as
PEM files, for SMTP servers over TLS on the loopback interface."""
from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_NAMES = ("localhost", "127.0.0.1")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_pem(path: Path, *blobs: bytes) -> Path:
    path.write_bytes(b"".join(blobs))
    return path


@dataclass
class Authority:
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    cert_file: Path  # what GUICHET_SMTP_CA_FILE names

    @classmethod
    def create(cls, folder: Path, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        certificate = (x509.CertificateBuilder()
                       .subject_name(_name(name)).issuer_name(_name(name))
                       .public_key(key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                       .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                       .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                    content_commitment=False, key_encipherment=False,
                                                    data_encipherment=False, key_agreement=False,
                                                    encipher_only=False, decipher_only=False), critical=True)
                       .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                       .sign(key, hashes.SHA256()))
        cert_file = _write_pem(folder / f"{name}-ca.pem", certificate.public_bytes(serialization.Encoding.PEM))
        return cls(name, key, certificate, cert_file)

    def server_context(self, folder: Path, names: tuple[str, ...] = LOOPBACK_NAMES) -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate this authority signed for `names`."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        alternative_names = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n)
                             for n in names]
        certificate = (x509.CertificateBuilder()
                       .subject_name(_name(names[0])).issuer_name(self.certificate.subject)
                       .public_key(key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                       .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
                       .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                       .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                       .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                      critical=False)
                       .sign(self.key, hashes.SHA256()))
        stem = f"{self.name}-{names[0]}"
        cert_file = _write_pem(folder / f"{stem}.pem", certificate.public_bytes(serialization.Encoding.PEM))
        key_file = _write_pem(folder / f"{stem}-key.pem", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context
