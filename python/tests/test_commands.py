"""installws and runws, with the real server binary."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from instant import server
from instant.producers import publish

from .conftest import free_port

PYTHON_DIR = Path(__file__).resolve().parents[1]


def manage(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(PYTHON_DIR)}
    return subprocess.Popen([sys.executable, "-m", "django", *args], cwd=cwd, env=env, **kwargs)


def installws(*args: str) -> str:
    out = io.StringIO()
    call_command("installws", *args, stdout=out)
    return out.getvalue()


def settings_from(output: str) -> dict:
    """Execute the settings lines installws printed, as a settings.py would."""
    block = output.split("Append this to your Django settings:\n\n", 1)[1].split("\n\n", 1)[0]
    namespace: dict = {}
    exec(block, namespace)  # noqa: S102 - our own output
    return {k: v for k, v in namespace.items() if k.isupper()}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project directory as the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INSTANT_BIN", raising=False)
    return tmp_path


def test_installws_on_an_empty_directory(project, instant_server, ws, subscriber):
    output = installws("--binary", str(instant_server.binary), "--site-name", "mysite")
    install_dir = project / "centrifugo"
    config = json.loads((install_dir / "config.json").read_text())
    assert (install_dir / "instant").is_file() and os.access(install_dir / "instant", os.X_OK)
    assert {"token_hmac_secret_key", "api_key", "admin_password", "admin_secret"} <= set(config)
    assert "http://localhost:8000" in config["allowed_origins"] and "http://localhost:3000" in config["allowed_origins"]
    assert oct((install_dir / "config.json").stat().st_mode & 0o777) == "0o600"

    # The lines to paste, exactly django-instant's.
    lines = output.split("Append this to your Django settings:\n\n", 1)[1].splitlines()[:5]
    assert lines == [
        'CENTRIFUGO_HOST = "http://localhost"',
        "CENTRIFUGO_PORT = 8427",
        f'CENTRIFUGO_HMAC_KEY = "{config["token_hmac_secret_key"]}"',
        f'CENTRIFUGO_API_KEY = "{config["api_key"]}"',
        'SITE_NAME = "mysite"',
    ]
    assert output.rstrip().endswith("Run it with python manage.py runws")
    checked = subprocess.run([str(install_dir / "instant"), "checkconfig", "--config", str(install_dir / "config.json")], capture_output=True)
    assert checked.returncode == 0, checked

    # The server starts with that config, and the printed settings publish through it.
    port = free_port()
    process = subprocess.Popen(
        [str(install_dir / "instant"), "--config", str(install_dir / "config.json"), "--port", str(port), "--address", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port)
        pasted = settings_from(output)
        pasted["CENTRIFUGO_PORT"] = port
        with override_settings(**pasted):
            from .conftest import WSClient
            from instant.token import channel_token, connection_token

            client = WSClient(f"ws://127.0.0.1:{port}/connection/websocket")
            try:
                assert "connect" in client.connect(connection_token(None))
                assert "subscribe" in client.subscribe("news", channel_token("news", None))
                publish("news", "hello from installws")
                assert json.loads(client.push()["pub"]["data"]) == {"channel": "news", "site": "mysite", "message": "hello from installws"}
            finally:
                client.close()
    finally:
        from instant import client as api_client

        api_client.close()  # an idle keep-alive connection delays the server's shutdown by 5 s
        process.terminate()
        process.wait(10)


def wait_healthy(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError(f"nothing healthy on port {port}")


def test_fix_installws_does_not_change_the_working_directory(project, instant_server):
    """django-instant's installws chdir'ed into ./centrifugo and stayed there."""
    installws("--binary", str(instant_server.binary))
    assert Path.cwd() == project


def test_installws_site_name_defaults_to_base_dir(project, instant_server, settings):
    settings.BASE_DIR = str(project / "shop")  # a str, as in older settings.py files
    assert 'SITE_NAME = "shop"' in installws("--binary", str(instant_server.binary))


def test_installws_keeps_an_existing_config_unless_forced(project, instant_server):
    installws("--binary", str(instant_server.binary))
    path = project / "centrifugo" / "config.json"
    first = json.loads(path.read_text())
    output = installws("--binary", str(instant_server.binary))
    assert "Keeping the existing" in output and json.loads(path.read_text()) == first
    assert f'CENTRIFUGO_API_KEY = "{first["api_key"]}"' in output
    installws("--binary", str(instant_server.binary), "--force")
    assert json.loads(path.read_text())["api_key"] != first["api_key"]


def test_installws_custom_dir(project, instant_server):
    installws("--binary", str(instant_server.binary), "--dir", "ws/server")
    assert (project / "ws" / "server" / "config.json").is_file()


def test_installws_finds_the_binary_in_instant_bin_and_on_path(project, instant_server, monkeypatch):
    monkeypatch.setenv("INSTANT_BIN", str(instant_server.binary))
    installws("--no-build", "--dir", "a")
    assert (project / "a" / "instant").is_file()
    monkeypatch.delenv("INSTANT_BIN")
    bindir = project / "bin"
    bindir.mkdir()
    (bindir / "instant").symlink_to(instant_server.binary)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    installws("--no-build", "--dir", "b")
    assert (project / "b" / "instant").is_file()


def test_installws_ignores_an_unrelated_instant_on_path(project, monkeypatch):
    bindir = project / "bin"
    bindir.mkdir()
    (bindir / "instant").write_text("#!/bin/sh\necho 'something else'\n")
    (bindir / "instant").chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    assert server.find_binary(None, project / "centrifugo") is None
    with pytest.raises(CommandError, match="Could not find the instant server binary"):
        installws("--no-build", "--source", str(project))


def test_installws_builds_from_the_repository_when_no_binary(project, instant_server, monkeypatch):
    calls = []
    monkeypatch.setattr(server, "find_binary", lambda *a, **k: None)

    def fake_build(repository):
        calls.append(repository)
        return instant_server.binary

    monkeypatch.setattr(server, "build_binary", fake_build)
    output = installws("--source", str(PYTHON_DIR.parent))
    assert calls == [PYTHON_DIR.parent]
    assert f"Building the instant server from {PYTHON_DIR.parent}" in output
    assert (project / "centrifugo" / "config.json").is_file()


def test_build_binary_runs_cmake(tmp_path, monkeypatch):
    commands = []

    class Done:
        returncode = 0

    def run(command):
        commands.append(command)
        if "--build" in command:
            (tmp_path / "build").mkdir(exist_ok=True)
            (tmp_path / "build" / "instant").write_text("")
        return Done()

    assert server.build_binary(tmp_path, run=run) == tmp_path / "build" / "instant"
    configure, build = commands
    assert configure[1:5] == ["-S", str(tmp_path), "-B", str(tmp_path / "build")] and "-DCMAKE_BUILD_TYPE=Release" in configure
    assert build[1:5] == ["--build", str(tmp_path / "build"), "--target", "instant"]


def test_repository_is_found_from_the_package_or_the_working_directory():
    repo = PYTHON_DIR.parent
    assert server.find_repository([PYTHON_DIR / "src" / "instant"]) == repo
    assert server.find_repository([Path("/")]) is None


def test_installws_runs_before_settings_are_complete(project, instant_server):
    """installws is what produces the keys: the system checks must not stop it."""
    with override_settings(CENTRIFUGO_HMAC_KEY=None, CENTRIFUGO_API_KEY=None):
        process = manage("installws", "--binary", str(instant_server.binary), cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert b"Append this to your Django settings:" in out


# --- runws ---------------------------------------------------------------------------------------


FAKE_SERVER = r"""#!/bin/sh
printf 'instant 0.1.0 starting\n'
printf 'args:'; for a in "$@"; do printf ' [%s]' "$a"; done; printf '\n'
printf '\033[32mcoloured\033[0m and a last line without newline'
printf 'to stderr\n' >&2
exit 0
"""


def fake_install(directory: Path, name: str = "instant") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text("{}")
    binary = directory / name
    binary.write_text(FAKE_SERVER)
    binary.chmod(0o755)
    return binary


def test_fix_runws_passes_output_untouched(project):
    """django-instant's runws printed str(bytes) with 3 characters cut off every line."""
    fake_install(project / "centrifugo")
    process = manage("runws", "--port", "8500", cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    config = project / "centrifugo" / "config.json"
    assert out == (
        b"instant 0.1.0 starting\n"
        + f"args: [--config] [{config}] [--port] [8500]\n".encode()
        + b"\033[32mcoloured\033[0m and a last line without newline"
    )
    assert err == b"to stderr\n"


def test_runws_port_defaults_to_the_setting_and_passes_extra_args(project):
    fake_install(project / "centrifugo")
    process = manage("runws", "--address", "127.0.0.1", "--", "--log_level", "debug", cwd=project, stdout=subprocess.PIPE)
    out, _ = process.communicate(timeout=30)
    assert b"[--port] [8427] [--address] [127.0.0.1] [--log_level] [debug]" in out


def test_runws_runs_a_legacy_centrifugo_binary(project):
    """A django-instant install (./centrifugo/centrifugo) is run the same way."""
    fake_install(project / "centrifugo", name="centrifugo")
    process = manage("runws", cwd=project, stdout=subprocess.PIPE)
    out, _ = process.communicate(timeout=30)
    assert out.startswith(b"instant 0.1.0 starting\n")


def test_runws_without_install_is_a_clear_error(project):
    with pytest.raises(CommandError, match="run python manage.py installws first"):
        call_command("runws")


def test_runws_exit_status_is_reported(project):
    binary = fake_install(project / "centrifugo")
    binary.write_text("#!/bin/sh\necho 'bad config' >&2\nexit 3\n")
    with pytest.raises(CommandError, match="exited with status 3"):
        call_command("runws")


def test_runws_serves_with_the_real_server_and_stops_on_sigterm(project, instant_server):
    installws("--binary", str(instant_server.binary))
    port = free_port()
    process = manage("runws", "--port", str(port), "--address", "127.0.0.1", cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port)
        process.send_signal(signal.SIGTERM)  # to manage.py: forwarded to the server
        out, _ = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out
    assert f"serving on 127.0.0.1:{port}".encode() in out
