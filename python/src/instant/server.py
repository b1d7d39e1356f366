"""Finding, building and configuring the ``instant`` server binary (used by installws and runws)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

#: Origins allowed by a fresh config: Django's dev server, frontend dev servers (Vite 3000/5173),
#: a frontend build preview (5000), on localhost and 127.0.0.1.
DEV_ORIGINS = [
    f"http://{host}:{port}" for port in (8000, 3000, 5000, 5173) for host in ("localhost", "127.0.0.1")
]

#: Default install directory, relative to the working directory (django-instant's).
DEFAULT_DIR = "centrifugo"


class ServerSetupError(Exception):
    """The binary could not be found, built or run; the message says what to do."""


def is_instant_binary(path: Path) -> bool:
    """Whether ``path`` is an executable that answers ``version`` like the instant server."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        return False
    try:
        out = subprocess.run([str(path), "version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.startswith("instant ")


def find_repository(starts: Iterable[Path]) -> Path | None:
    """The instant source checkout containing one of ``starts`` (a dir with ``server/src/main.cc``)."""
    for start in starts:
        for directory in [start, *start.parents]:
            if (directory / "server" / "src" / "main.cc").is_file() and (directory / "CMakeLists.txt").is_file():
                return directory
    return None


def default_repository_starts() -> list[Path]:
    return [Path.cwd().resolve(), Path(__file__).resolve().parent]


def find_binary(
    explicit: str | os.PathLike[str] | None = None,
    install_dir: Path | None = None,
    *,
    legacy_names: bool = False,
    repository: Path | None = None,
) -> Path | None:
    """Look for the server binary: ``explicit``, ``$INSTANT_BIN``, ``<install_dir>/instant``
    (and ``<install_dir>/centrifugo`` with ``legacy_names``), ``instant`` on ``PATH``, then a built
    one in the repository's ``build/``. Returns ``None`` when there is none.

    ``explicit``, ``$INSTANT_BIN`` and the install directory's binary are trusted as given (a
    Centrifugo binary works with runws); the others must answer ``version`` like the instant server.
    """
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ServerSetupError(f"{path}: no such file")
        return path.resolve()
    env = os.environ.get("INSTANT_BIN")
    if env and Path(env).is_file():
        return Path(env).resolve()
    if install_dir is not None:
        # What installws put there (or django-instant's Centrifugo, for runws) is trusted as is.
        names = ["instant", "centrifugo"] if legacy_names else ["instant"]
        for name in names:
            candidate = install_dir / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate.resolve()
    candidates: list[Path] = []
    on_path = shutil.which("instant")
    if on_path:
        candidates.append(Path(on_path))
    if repository is not None:
        candidates.append(repository / "build" / "instant")
    for candidate in candidates:
        if is_instant_binary(candidate):
            return candidate.resolve()
    return None


def build_binary(repository: Path, run: Callable[..., Any] = subprocess.run) -> Path:
    """Build the server with CMake in ``<repository>/build`` (Release, Ninja when available)."""
    cmake = shutil.which("cmake")
    if cmake is None:
        raise ServerSetupError(
            "cmake is not installed: install the build tools (make setup in the repository) or pass --binary"
        )
    build_dir = repository / "build"
    configure = [cmake, "-S", str(repository), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release"]
    if shutil.which("ninja") and not (build_dir / "CMakeCache.txt").exists():
        configure += ["-G", "Ninja"]
    build = [cmake, "--build", str(build_dir), "--target", "instant", "-j", str(os.cpu_count() or 2)]
    for command in (configure, build):
        result = run(command)
        if result.returncode != 0:
            raise ServerSetupError(f"building the server failed: {' '.join(command)} exited with {result.returncode}")
    binary = build_dir / "instant"
    if not binary.is_file():
        raise ServerSetupError(f"the build finished but {binary} is missing")
    return binary


def generate_config(binary: Path, path: Path, origins: list[str] | None = None) -> dict[str, Any]:
    """Write a fresh config at ``path`` with ``binary genconfig`` (new secrets), set its
    ``allowed_origins`` (``DEV_ORIGINS`` by default), and validate it with ``checkconfig``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fresh = Path(tmp) / "config.json"
        result = subprocess.run([str(binary), "genconfig", "--config", str(fresh)], capture_output=True, text=True)
        if result.returncode != 0 or not fresh.is_file():
            raise ServerSetupError(f"{binary} genconfig failed: {(result.stderr or result.stdout).strip()}")
        conf = json.loads(fresh.read_text())
        conf["allowed_origins"] = list(DEV_ORIGINS if origins is None else origins)
        fresh.write_text(json.dumps(conf, indent=4) + "\n")
        check = subprocess.run([str(binary), "checkconfig", "--config", str(fresh)], capture_output=True, text=True)
        if check.returncode != 0:
            raise ServerSetupError(f"{binary} checkconfig rejected the new config: {(check.stderr or check.stdout).strip()}")
        os.replace(fresh, path)
    os.chmod(path, 0o600)
    return conf  # type: ignore[no-any-return]
