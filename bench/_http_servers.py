"""The servers ``bench_http.py`` measures against: nginx where installed, else ``server.py``.

Both serve the same canned answers over plain HTTP and HTTPS on 127.0.0.1, with a certificate
from a certificate authority made for this run (``trustme``). Clients are told to trust it the
way a user trusts a private CA: ``SSL_CERT_FILE`` in their environment, which httpx (its
default ``trust_env=True``) and aiohttp (through OpenSSL's default verify paths) both read, so
neither is given a special context. Both servers write one line per new connection to
:attr:`Servers.connection_log`. With a latency to play, the Python server holds its answers
back, behind nginx (as a proxy) where installed so HTTP/2 is still offered.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

from _nginx import start_nginx

HERE = Path(__file__).resolve().parent


@dataclass
class Servers:
    """The running server and what clients need to reach and trust it."""

    kind: str
    """``"nginx"`` or ``"python"``."""
    process: subprocess.Popen[bytes]
    roots: dict[str, str]
    """URL root per protocol: ``{"http": "http://127.0.0.1:p", "https": ...}``."""
    ca_file: Path
    """The PEM of the run's certificate authority: the clients' ``SSL_CERT_FILE``."""
    connection_log: Path
    http2: bool
    """Whether the HTTPS listener offers HTTP/2."""
    workdir: Path
    backend: subprocess.Popen[bytes] | None = None
    """The Python server behind nginx, when it plays a latency."""

    def stop(self) -> None:
        for proc in (self.process, self.backend):
            if proc is None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _certificates(workdir: Path) -> tuple[Path, Path]:
    """A fresh CA and a server certificate for 127.0.0.1: (CA PEM, server key + chain PEM)."""
    authority = trustme.CA()
    leaf = authority.issue_cert("127.0.0.1", "localhost")
    ca_file, server_pem = workdir / "ca.pem", workdir / "server.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    return ca_file, server_pem


def _python_server(
    workdir: Path, pem: Path, delay_ms: float
) -> tuple[subprocess.Popen[bytes], int, int]:
    log = workdir / "connections.log"
    log.touch()
    cmd = [sys.executable, str(HERE / "server.py"), "--tls-cert", str(pem)]
    cmd += ["--delay-ms", str(delay_ms)]
    proc = subprocess.Popen([*cmd, "--connection-log", str(log)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    ports = {}
    for _ in range(2):
        name, _, value = proc.stdout.readline().decode().partition(" ")
        if not value.strip().isdigit():
            proc.kill()
            raise RuntimeError(f"the bench server did not start: {name!r} {value!r}")
        ports[name] = int(value)
    return proc, ports["PORT"], ports["TLS_PORT"]


def start(kind: str, chunk_counts: tuple[int, ...], delay_ms: float = 0.0) -> Servers:
    """Start the server ``kind`` names (``auto``: nginx when installed, else python).

    Args:
        kind: ``"auto"``, ``"nginx"`` or ``"python"``.
        chunk_counts: Stream lengths the clients will ask for (nginx serves them as files).
        delay_ms: Latency of every answer, played by the Python server (behind nginx when
            ``kind`` is nginx).
    """
    if kind == "auto":
        kind = "nginx" if shutil.which("nginx") else "python"
    if kind == "nginx" and not shutil.which("nginx"):
        raise SystemExit("--server nginx: nginx is not installed (apt-get install -y nginx)")
    workdir = Path(tempfile.mkdtemp(prefix="aether-bench-"))
    workdir.chmod(0o755)  # nginx runs as nobody when we are root
    ca_file, pem = _certificates(workdir)
    backend = None
    if kind == "nginx":
        upstream = 0
        if delay_ms:
            backend, upstream, _ = _python_server(workdir, pem, delay_ms)
        proc, http_port, https_port = start_nginx(workdir / "nginx", pem, chunk_counts, upstream)
        log = workdir / "nginx" / "connections.log"
    else:
        proc, http_port, https_port = _python_server(workdir, pem, delay_ms)
        log = workdir / "connections.log"
    return Servers(
        kind=kind,
        process=proc,
        roots={"http": f"http://127.0.0.1:{http_port}", "https": f"https://127.0.0.1:{https_port}"},
        ca_file=ca_file,
        connection_log=log,
        http2=kind == "nginx",
        workdir=workdir,
        backend=backend,
    )


def count_connections(log: Path) -> int:
    """How many connections the server has logged so far."""
    with log.open("rb") as lines:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: lines.read(1 << 16), b""))
