"""A real Dovecot IMAP server for tests: own config, passwd-file user, self-signed cert,
listening with TLS on a free 127.0.0.1 port. Installed by `.ci/setup-services`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

USER, PASSWORD = "support", "imap-test-secret"


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    ca_file: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )


def start_dovecot(root: Path) -> Dovecot:
    binary = _binary()
    if binary is None or shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot (or openssl) is not installed: .ci/setup-services must install it")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd) — the CI installs it")
    port = _free_port()
    for sub in ("run", "mail", "state"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
        check=True, capture_output=True,
    )
    # The mail user is "nobody": Dovecot refuses to run mail processes as root.
    mail_uid, mail_gid = 65534, 65534
    (root / "passwd").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_gid}::{root / 'mail' / USER}\n"
    )
    os.chown(root / "mail", mail_uid, mail_gid) if os.geteuid() == 0 else None
    (root / "dovecot.conf").write_text(f"""
base_dir = {root / 'run'}
state_dir = {root / 'state'}
log_path = {root / 'dovecot.log'}
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root / 'cert.pem'}
ssl_key = <{root / 'key.pem'}
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {root / 'passwd'}
}}
userdb {{
  driver = passwd-file
  args = {root / 'passwd'}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
    process = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("dovecot exited: " + process.stderr.read().decode(errors="replace")
                               + _log(root))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.terminate()
        raise RuntimeError("dovecot did not start listening" + _log(root))
    return Dovecot("127.0.0.1", port, USER, PASSWORD, str(root / "cert.pem"), process)


def _log(root: Path) -> str:
    log = root / "dovecot.log"
    return "\n" + log.read_text(errors="replace")[-2000:] if log.exists() else ""


def stop_dovecot(server: Dovecot) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
