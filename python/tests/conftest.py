"""Fixtures: the real instant server ($INSTANT_BIN) and a small Centrifugo-protocol WebSocket client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

REPO = Path(__file__).resolve().parents[2]


def server_binary() -> Path:
    env = os.environ.get("INSTANT_BIN")
    if env:
        path = Path(env)
        if not path.is_file():
            pytest.exit(f"INSTANT_BIN={env}: no such file", returncode=4)
        return path.resolve()
    for candidate in (REPO / "build" / "instant", REPO / "build-py" / "instant"):
        if candidate.is_file():
            return candidate
    pytest.exit("set INSTANT_BIN to the instant server binary (make build builds build/instant)", returncode=4)
    raise AssertionError  # unreachable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One real server process on 127.0.0.1 with a genconfig'd config."""

    def __init__(self, binary: Path, workdir: Path, extra: dict[str, Any] | None = None) -> None:
        self.binary = binary
        self.workdir = workdir
        self.config_path = workdir / "config.json"
        subprocess.run([str(binary), "genconfig", "--config", str(self.config_path)], check=True, capture_output=True)
        self.config: dict[str, Any] = json.loads(self.config_path.read_text())
        self.config.update(extra or {})
        self.config_path.write_text(json.dumps(self.config, indent=2))
        self.hmac_key: str = self.config["token_hmac_secret_key"]
        self.api_key: str = self.config["api_key"]
        self.port = free_port()
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/connection/websocket"

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "--config", str(self.config_path), "--port", str(self.port), "--address", "127.0.0.1"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(self.http_url + "/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the instant server did not start; its log:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def instant_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(
        server_binary(),
        tmp_path_factory.mktemp("server"),
        {
            "allowed_origins": ["http://testserver"],
            # A namespace open to any client: shows why "ns:$chan" is not private and "$ns:chan" is.
            "namespaces": [{"name": "ns", "allow_subscribe_for_client": True, "allow_subscribe_for_anonymous": True}],
        },
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _settings_for_server(instant_server: Server, settings: Any) -> None:
    settings.CENTRIFUGO_HOST = "http://127.0.0.1"
    settings.CENTRIFUGO_PORT = instant_server.port
    settings.CENTRIFUGO_HMAC_KEY = instant_server.hmac_key
    settings.CENTRIFUGO_API_KEY = instant_server.api_key


class WSClient:
    """Centrifugo client protocol v2 (JSON) over one WebSocket, enough for the tests."""

    def __init__(self, url: str) -> None:
        self.conn: ClientConnection = connect(url, open_timeout=5, legacy=True)
        self._next_id = 0
        self._frames: deque[dict[str, Any]] = deque()
        self.pushes: deque[dict[str, Any]] = deque()
        self.closed: tuple[int, str] | None = None

    def _read(self, timeout: float) -> dict[str, Any] | None:
        if self._frames:
            return self._frames.popleft()
        try:
            raw = self.conn.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as closed:
            rcvd = closed.rcvd
            self.closed = (rcvd.code, rcvd.reason) if rcvd else (1006, "")
            return None
        for line in str(raw).split("\n"):
            if line.strip():
                self._frames.append(json.loads(line))
        return self._frames.popleft() if self._frames else None

    def _message(self, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(max(0.0, deadline - time.monotonic()))
            if message is None:
                return None
            if message == {}:  # server ping
                self.conn.send("{}")
                continue
            return message

    def command(self, timeout: float = 5, **command: Any) -> dict[str, Any]:
        """Send one command; the reply, or ``{"disconnect": {"code", "reason"}}`` if the server closed."""
        self._next_id += 1
        self.conn.send(json.dumps({"id": self._next_id, **command}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._message(deadline - time.monotonic())
            if message is None:
                if self.closed:
                    return {"disconnect": {"code": self.closed[0], "reason": self.closed[1]}}
                continue
            if message.get("id") == self._next_id:
                return message
            if "push" in message:
                self.pushes.append(message["push"])
        raise AssertionError(f"no reply to {command} within {timeout} s")

    def connect(self, token: str) -> dict[str, Any]:
        return self.command(connect={"token": token})

    def subscribe(self, channel: str, token: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"channel": channel}
        if token is not None:
            params["token"] = token
        return self.command(subscribe=params)

    def push(self, timeout: float = 5) -> dict[str, Any]:
        """The next push (publication...) from the server."""
        if self.pushes:
            return self.pushes.popleft()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._message(deadline - time.monotonic())
            if message is not None and "push" in message:
                return message["push"]  # type: ignore[no-any-return]
            if self.closed:
                break
        raise AssertionError(f"no push within {timeout} s (closed: {self.closed})")

    def publications(self, count: int, timeout: float = 5) -> list[dict[str, Any]]:
        return [self.push(timeout)["pub"] for _ in range(count)]

    def assert_no_push(self, wait: float = 0.4) -> None:
        if self.pushes:
            raise AssertionError(f"unexpected push {self.pushes[0]}")
        message = self._message(wait)
        assert message is None, f"unexpected message {message}"

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def ws(instant_server: Server) -> Iterator[Any]:
    """Factory of protocol clients: ``ws()`` opens one; all are closed after the test."""
    clients: list[WSClient] = []

    def factory() -> WSClient:
        client = WSClient(instant_server.ws_url)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def subscriber(ws: Any) -> Any:
    """``subscriber(channel, user=None)``: a connected client subscribed to ``channel`` with tokens
    made by instant for ``user`` (anonymous when None)."""
    from instant.token import channel_token, connection_token

    def make(channel: str, user: Any = None) -> WSClient:
        client = ws()
        reply = client.connect(connection_token(user))
        assert "connect" in reply, reply
        reply = client.subscribe(channel, channel_token(channel, user))
        assert "subscribe" in reply, reply
        return client

    return make


class CountingProxy:
    """A TCP forwarder to the server that counts the connections it accepts."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.accepted = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self.listener.close()


@pytest.fixture
def counting_proxy(instant_server: Server) -> Iterator[CountingProxy]:
    proxy = CountingProxy(instant_server.port)
    yield proxy
    proxy.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture(autouse=True)
def _fresh_http_client() -> Iterator[None]:
    """Each test starts with no pooled API connection (so connection counts are per test)."""
    from instant import client

    client.close()
    yield
    client.close()
