"""``python manage.py runws``: run the websockets server installed by installws.

Runs ``<dir>/instant --config <dir>/config.json --port CENTRIFUGO_PORT`` in the foreground. The
server writes straight to this terminal: its output is passed through untouched. Ctrl+C and
SIGTERM stop it gracefully. A Centrifugo binary left at ``<dir>/centrifugo`` by django-instant's
installws is run the same way when there is no instant binary.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import conf, server


class Command(BaseCommand):
    help = "Run the instant websockets server installed by installws (its output is passed through untouched)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", default=server.DEFAULT_DIR, help="install directory (default: ./centrifugo)")
        parser.add_argument("--config", help="config file (default: <dir>/config.json)")
        parser.add_argument("--binary", help="server binary (default: <dir>/instant, $INSTANT_BIN, or instant on PATH)")
        parser.add_argument("--port", type=int, help="port (default: CENTRIFUGO_PORT, 8427)")
        parser.add_argument("--address", help="interface address to listen on (default: all)")
        parser.add_argument("server_args", nargs="*", help="more arguments for the server, after --")

    def handle(self, *args: Any, **options: Any) -> None:
        install_dir = Path(options["dir"]).expanduser().resolve()
        config = Path(options["config"]).expanduser() if options["config"] else install_dir / "config.json"
        if not config.is_file():
            raise CommandError(f"No server config at {config}: run python manage.py installws first.")
        try:
            binary = server.find_binary(options["binary"], install_dir, legacy_names=True)
        except server.ServerSetupError as error:
            raise CommandError(str(error)) from error
        if binary is None:
            raise CommandError(f"No server binary in {install_dir} nor on PATH: run python manage.py installws first.")
        port = options["port"] or conf.get("CENTRIFUGO_PORT") or 8427
        command = [str(binary), "--config", str(config), "--port", str(port)]
        if options["address"]:
            command += ["--address", options["address"]]
        command += options["server_args"]

        sys.stdout.flush()
        sys.stderr.flush()
        process = subprocess.Popen(command)  # inherits stdout/stderr: nothing is rewritten

        def forward(signum: int, frame: FrameType | None) -> None:
            process.send_signal(signum)

        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, forward) if in_main_thread else None
        try:
            while True:
                try:
                    returncode = process.wait()
                    break
                except KeyboardInterrupt:
                    # The terminal sent SIGINT to the server too; wait for its graceful stop.
                    continue
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)
        if returncode not in (0, -signal.SIGINT, -signal.SIGTERM):
            raise CommandError(f"the server exited with status {returncode}", returncode=returncode if returncode > 0 else 1)
