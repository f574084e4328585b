"""A throw-away certificate for a stand-in served over https (``openssl``, valid two days, for
``localhost`` and 127.0.0.1); the bot trusts it only through its config (``zalo.photo_ca_file``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def self_signed(directory: Path) -> tuple[str, str]:
    """(certificate, key) files for ``localhost``."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "the https stand-in needs the openssl command"
    cert, key = directory / "cdn-cert.pem", directory / "cdn-key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return str(cert), str(key)
