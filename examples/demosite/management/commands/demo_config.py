"""``manage.py demo_config``: write the websockets server's config.json for the demo.

Fresh secrets the first time (``instant genconfig``), kept afterwards; the demo's options are
(re)applied on every run, so it is idempotent: the demo site's origins allowed, history and
recovery on every channel (a message published while a browser was offline reaches it when it
reconnects).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_OPTIONS: dict[str, Any] = {
    "history_size": 100,
    "history_ttl": "300s",
    "force_recovery": True,
}


def find_binary(given: str | None) -> Path:
    repository_build = Path(settings.BASE_DIR).parent / "build" / "instant"
    for candidate in (given, os.environ.get("INSTANT_BIN"), shutil.which("instant"), repository_build):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise CommandError(
        "No instant server binary: build it with `make build` at the repository root, set INSTANT_BIN, or pass --binary"
    )


class Command(BaseCommand):
    help = "Write the demo's websockets server config.json (fresh secrets once; demo origins, history, recovery)."
    requires_system_checks: list[str] = []  # it writes what instant's checks look for

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--binary", help="the instant server binary (default: $INSTANT_BIN, PATH, build/instant)")
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            help="an origin the browser pages come from (repeatable; default http://localhost:8000 and http://127.0.0.1:8000)",
        )
        parser.add_argument("--config", default=str(settings.SERVER_CONFIG), help="where to write it")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["config"])
        if not path.exists():
            binary = find_binary(options["binary"])
            path.parent.mkdir(parents=True, exist_ok=True)
            result = subprocess.run([str(binary), "genconfig", "--config", str(path)], capture_output=True, text=True)
            if result.returncode != 0:
                raise CommandError(f"{binary} genconfig failed: {result.stderr or result.stdout}")
            self.stdout.write(f"{path}: new secrets")
        config = json.loads(path.read_text())
        origins = options["origin"] or ["http://localhost:8000", "http://127.0.0.1:8000"]
        config.update(DEMO_OPTIONS)
        config["allowed_origins"] = origins
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(config, indent=2) + "\n")
        tmp.chmod(0o600)
        tmp.replace(path)
        self.stdout.write(f"{path}: origins {', '.join(origins)}; history and recovery on")
