"""``python manage.py installws``: install the instant websockets server for this project.

Finds the ``instant`` binary (``--binary``, ``$INSTANT_BIN``, ``PATH``, or builds it from a checkout
of the instant repository), copies it to ``./centrifugo/instant``, writes ``./centrifugo/config.json``
with fresh secrets and the usual dev origins, and prints the Django settings lines to paste.
The working directory is left as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import server
from ...init import generate_settings_from_conf


class Command(BaseCommand):
    help = "Install the instant websockets server: binary, config.json with fresh secrets, and the settings to paste."
    requires_system_checks: list[str] = []  # it is what fixes the settings the checks ask for

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", default=server.DEFAULT_DIR, help="install directory (default: ./centrifugo)")
        parser.add_argument("--binary", help="use this server binary instead of looking for one")
        parser.add_argument("--source", help="the instant repository to build the server from, when no binary is found")
        parser.add_argument("--no-build", action="store_true", help="never build the server from source")
        parser.add_argument("--force", action="store_true", help="replace an existing config.json (new secrets)")
        parser.add_argument("--site-name", help="SITE_NAME to print (default: the name of BASE_DIR)")

    def handle(self, *args: Any, **options: Any) -> None:
        install_dir = Path(options["dir"]).expanduser().resolve()
        config_path = install_dir / "config.json"
        repository = Path(options["source"]).resolve() if options["source"] else server.find_repository(server.default_repository_starts())
        try:
            binary = server.find_binary(options["binary"], install_dir, repository=repository)
            if binary is None:
                if repository is None or options["no_build"]:
                    raise CommandError(
                        "Could not find the instant server binary. Pass --binary PATH, set INSTANT_BIN, put "
                        "`instant` on PATH, or run from (or pass --source) a checkout of the instant "
                        "repository so it can be built with cmake."
                    )
                self.stdout.write(f"Building the instant server from {repository} ...")
                binary = server.build_binary(repository)
            installed = self._install_binary(binary, install_dir)
            if config_path.exists() and not options["force"]:
                conf = json.loads(config_path.read_text())
                self.stdout.write(f"Keeping the existing {config_path} (--force writes one with new secrets).")
            else:
                conf = server.generate_config(installed, config_path)
        except server.ServerSetupError as error:
            raise CommandError(str(error)) from error
        except (OSError, ValueError) as error:
            raise CommandError(f"{config_path}: {error}") from error

        self.stdout.write(f"Server: {installed}\nConfig: {config_path}")
        # The same text as django-instant's installws.
        self.stdout.write("\nAppend this to your Django settings:\n\n", ending="")
        for line in generate_settings_from_conf(conf, options["site_name"]):
            self.stdout.write(line)
        self.stdout.write("\n\n", ending="")
        self.stdout.write("The instant websockets server is installed. Run it with python manage.py runws")

    def _install_binary(self, binary: Path, install_dir: Path) -> Path:
        install_dir.mkdir(parents=True, exist_ok=True)
        target = install_dir / "instant"
        if target.exists() and target.resolve() == binary.resolve():
            return target
        # Copy next to the target then rename: works while an old copy is running.
        fd, tmp = tempfile.mkstemp(dir=install_dir, prefix=".instant-")
        os.close(fd)
        try:
            shutil.copy2(binary, tmp)
            os.chmod(tmp, 0o755)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target
