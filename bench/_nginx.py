"""nginx serving the canned answers, as a child process with its own configuration.

A C server keeps the server off the critical path where the Python one would share two cores
with the client under test (at concurrency 500 over TLS it is the bottleneck). Same routes and
bodies as ``bench/server.py`` (both come from ``bench/_canned.py``):

- whole answers are ``return 200 '<body>'``, with the reply id filled from ``$request_id``;
- streams (``/n<N>/`` in the path, as the benchmark's clients ask for them) are static files
  with the event-stream content type, their ids filled in by ``sub_filter``. nginx serves
  files to GET only, so the POST is answered by an internal redirect (``error_page 405``).

Or, given an upstream (the Python server holding answers back to play a real API's latency),
nginx proxies every request to it, so HTTP/2 clients can be measured with latency too.

One request per connection is logged (``$connection_requests`` = 1), so the log's line count is
the number of connections clients opened. The HTTPS listener also offers HTTP/2 (ALPN).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from _canned import ANSWERS, ID_SLOT, JSON_TYPE, SSE_TYPE, STREAMS

_STREAM_PATHS = {
    "openai": r"/chat/completions",
    "gemini": r":streamGenerateContent",
    "anthropic": r"/messages",
}
_ANSWER_PATHS = {
    "openai": r"/chat/completions",
    "gemini": r":generateContent",
    "anthropic": r"/messages",
}


def free_port() -> int:
    """A port nothing listens on now (nginx binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _canned_routes() -> str:
    slot = ID_SLOT.decode()
    streams = "".join(
        f"""
        location ~ ^/n(?<chunks>\\d+)/.*{path}$ {{
            error_page 405 =200 /{fmt}-$chunks.sse;
            return 405;
        }}"""
        for fmt, path in _STREAM_PATHS.items()
    )
    answers = "".join(
        f"""
        location ~ {path}$ {{
            return 200 '{ANSWERS[fmt]().decode().replace(slot, "${request_id}")}';
        }}"""
        for fmt, path in _ANSWER_PATHS.items()
    )
    return f"""{streams}
        location ~ \\.sse$ {{
            internal;
            default_type "{SSE_TYPE}";
            add_header cache-control no-cache always;
            add_header x-request-id req_bench always;
            sub_filter '{slot}' '$request_id';
            sub_filter_once off;
            sub_filter_types *;
        }}
        {answers}"""


_PROXY_ROUTES = """
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }"""


def _config(workdir: Path, http_port: int, https_port: int, pem: Path, upstream: int) -> str:
    routes = _PROXY_ROUTES if upstream else _canned_routes()
    backend = f"server 127.0.0.1:{upstream}; keepalive 1024; keepalive_requests 1000000;"
    temp = " ".join(f"{kind}_temp_path {workdir}/tmp/{kind};" for kind in _TEMP_KINDS)
    return f"""
daemon off;
master_process off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    {temp}
    types {{ }}
    default_type {JSON_TYPE};
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    tcp_nodelay on;
    map $connection_requests $first_request {{ 1 1; default 0; }}
    log_format connections '$connection';
    access_log {workdir}/connections.log connections if=$first_request;
    {f"upstream backend {{ {backend} }}" if upstream else ""}
    server {{
        listen 127.0.0.1:{http_port};
        listen 127.0.0.1:{https_port} ssl http2;
        ssl_certificate {pem};
        ssl_certificate_key {pem};
        root {workdir}/www;
        add_header x-request-id req_bench always;
        {routes}
    }}
}}
"""


_TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def _unprivileged(workdir: Path) -> dict[str, Any]:
    """``Popen`` keywords running nginx as ``nobody`` when we are root (files handed over)."""
    if os.geteuid() != 0:
        return {}
    for path in [workdir, *workdir.rglob("*")]:
        shutil.chown(path, "nobody", "nogroup")
    return {"user": "nobody", "group": "nogroup"}


def start_nginx(
    workdir: Path, pem: Path, chunk_counts: tuple[int, ...], upstream: int = 0
) -> tuple[subprocess.Popen[bytes], int, int]:
    """Start nginx serving plain HTTP and HTTPS (+HTTP/2); returns it and the two ports.

    Args:
        workdir: An empty directory for the configuration, files and logs.
        pem: The server's key and certificate chain.
        chunk_counts: The stream lengths to have files for.
        upstream: A port on 127.0.0.1 to proxy every request to; 0: answer from nginx.
    """
    www = workdir / "www"
    www.mkdir(parents=True)
    for kind in _TEMP_KINDS:
        (workdir / "tmp" / kind).mkdir(parents=True)
    for fmt, events in STREAMS.items():
        for chunks in chunk_counts:
            (www / f"{fmt}-{chunks}.sse").write_bytes(b"".join(events(chunks)))
    (workdir / "connections.log").touch()
    http_port, https_port = free_port(), free_port()
    shutil.copy(pem, workdir / "server.pem")  # readable by nginx's user, like the rest
    conf = workdir / "nginx.conf"
    conf.write_text(_config(workdir, http_port, https_port, workdir / "server.pem", upstream))
    proc = subprocess.Popen(
        ["nginx", "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        **_unprivileged(workdir),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=0.2).close()
            return proc, http_port, https_port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    errors = (workdir / "error.log").read_text(errors="replace")
    raise RuntimeError(f"nginx did not start:\n{errors[-2000:]}")
