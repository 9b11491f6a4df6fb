"""A throwaway certificate authority for ``wss://`` (reference §1.1, §6.6).

The official SDK verifies the host name as a DNS name only, so the server certificate is
issued for ``DNS:localhost`` (plus ``IP:127.0.0.1`` for other clients). The CA certificate is
written to a file that clients trust through ``ZM_RTMS_CA``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["TestAuthority", "create_authority"]


@dataclass(frozen=True)
class TestAuthority:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def create_authority(directory: Path) -> TestAuthority:
    """Generate a CA and a ``localhost`` server certificate into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="rtms-sim test CA")
    server = ca.issue_cert("localhost", "127.0.0.1")
    ca_file = directory / "ca.pem"
    cert_file = directory / "server.pem"
    key_file = directory / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    server.private_key_pem.write_to_path(str(key_file))
    with cert_file.open("wb") as out:
        for blob in server.cert_chain_pems:
            out.write(blob.bytes())
    key_file.chmod(0o600)
    return TestAuthority(ca_file=ca_file, cert_file=cert_file, key_file=key_file)
