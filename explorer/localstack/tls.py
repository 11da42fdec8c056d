"""A throwaway certificate authority and a localhost server certificate for the local stack.

Go (daprd's Cosmos SDK) refuses certificates without subjectAltName, so the
server gets one for localhost and 127.0.0.1, signed by a CA that clients trust
through SSL_CERT_FILE / REQUESTS_CA_BUNDLE. Keys live in the stack's run folder
and die with it; never use them for anything else.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import StackError


@dataclass(frozen=True)
class LocalCertificates:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"openssl {args[0]} failed: {result.stderr.strip()[:500]}")


def make_certificates(folder: Path) -> LocalCertificates:
    """Create ca.pem, server.pem and server-key.pem in `folder` (valid 30 days)."""
    if shutil.which("openssl") is None:
        raise StackError("openssl is not installed; install it (Debian: apt-get install openssl).")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "san.cnf").write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
    )
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "30",
        "-subj", "/CN=dapr-explorer local stack CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=localhost",
        cwd=folder,
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
        "-out", "server.pem", "-days", "30", "-extfile", "san.cnf",
        cwd=folder,
    )
    return LocalCertificates(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
