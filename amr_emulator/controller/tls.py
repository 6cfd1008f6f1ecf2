"""TLS material of one cache (`up --tls`): a CA of its own and a server certificate it signs.

Made fresh for each cache in `<cache dir>/tls/`: `ca.pem` (what clients trust: `ssl_ca_certs`),
`server.pem` + `server-key.pem` (what every node proxy presents on the cache endpoint, its node endpoint
and its cluster port). The server certificate names `localhost`, 127.0.0.1, the cache's host and every
node's IP (127.0.1.x), so clients verify the host name, cluster redirections included; the CA's key
(`ca-key.pem`) stays to sign the certificate of nodes added later (patching's `server-<n>.pem`). Keys are ECDSA
P-256; the certificate is valid from an hour ago for 365 days. Proxy-to-shard traffic stays plaintext.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class TlsFiles:
    ca: str
    cert: str
    key: str


def make_certificates(directory: str, cache_name: str, hosts: list[str]) -> TlsFiles:
    """Write a new CA (kept, with its key, for the cache's later nodes) and a server certificate for
    `hosts` (IPs or names) into `directory`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    os.makedirs(directory, mode=0o700, exist_ok=True)
    start, end = _validity()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "amr-emulator"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"amr-emulator CA for {cache_name}")])
    ca_cert = (x509.CertificateBuilder()
               .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    _write(os.path.join(directory, "ca.pem"), ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(os.path.join(directory, "ca-key.pem"), _private_pem(ca_key), 0o600)
    return issue_server_certificate(directory, cache_name, hosts)


def issue_server_certificate(directory: str, cache_name: str, hosts: list[str], name: str = "server") -> TlsFiles:
    """A server certificate for `hosts`, signed by the cache's CA in `directory` (`<name>.pem` and
    `<name>-key.pem`): patching's new nodes have new IPs, so they get one of their own."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    with open(os.path.join(directory, "ca.pem"), "rb") as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(directory, "ca-key.pem"), "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), password=None)
    start, end = _validity()
    names: list[x509.GeneralName] = []
    seen = set()
    for host in ["localhost", "127.0.0.1", *hosts]:
        if host in seen:
            continue
        seen.add(host)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "amr-emulator"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, cache_name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = TlsFiles(ca=os.path.join(directory, "ca.pem"), cert=os.path.join(directory, f"{name}.pem"),
                     key=os.path.join(directory, f"{name}-key.pem"))
    _write(files.cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(files.key, _private_pem(key), 0o600)
    return files


def _validity():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now - datetime.timedelta(hours=1), now + datetime.timedelta(days=365)


def _private_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: str, data: bytes, mode: int) -> None:
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def client_context(ca: str) -> ssl.SSLContext:
    """What the controller connects to its node proxies with: the cache's CA, host names checked."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx
