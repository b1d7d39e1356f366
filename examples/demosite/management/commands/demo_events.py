"""``manage.py demo_events``: publish a demo event every few seconds (Ctrl-C to stop).

Cycles through the demo channels, with an ``important`` event now and then, so an open demo page
shows traffic on every channel it may see. ``--count 1 --channel public --message hi`` publishes
one event and exits (the browser tests use it to publish through Django).
"""

import itertools
import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from instant.exceptions import InstantError
from instant.models import Channel
from instant.producers import publish


class Command(BaseCommand):
    help = "Publish a demo event every few seconds into the demo channels (Ctrl-C stops)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=3.0, help="seconds between events (default 3)")
        parser.add_argument("--count", type=int, default=0, help="stop after this many rounds (default: never)")
        parser.add_argument(
            "--channel",
            action="append",
            default=[],
            help="publish into this channel (repeatable; each round publishes into all of them). "
            "Default: one active channel per round, in turn",
        )
        parser.add_argument("--message", help="the message (default: 'demo event #N at HH:MM:SS')")
        parser.add_argument("--event-class", default=None, help="the event_class (default: 'important' every 5th event)")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"]
        if interval <= 0:
            raise CommandError("--interval must be positive")
        names = options["channel"]
        if not names:
            names = list(Channel.objects.active().order_by("name").values_list("name", flat=True))
            if not names:
                raise CommandError("no active channel: run manage.py demo_setup")
            rounds = ([name] for name in itertools.cycle(names))
        else:
            rounds = itertools.repeat(names)
        counter = itertools.count(1)
        try:
            for done, channels in enumerate(rounds, start=1):
                for channel in channels:
                    n = next(counter)
                    message = options["message"] or f"demo event #{n} at {datetime.now():%H:%M:%S}"
                    event_class = options["event_class"] or ("important" if n % 5 == 0 else "info")
                    try:
                        publish(channel, message, event_class=event_class, data={"n": n, "source": "demo_events"})
                        self.stdout.write(f"published to {channel}: {message} ({event_class})")
                    except InstantError as error:
                        if options["count"]:
                            raise CommandError(f"publishing to {channel} failed: {error}") from error
                        self.stderr.write(f"publishing to {channel} failed: {error} (retrying)")
                if options["count"] and done >= options["count"]:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            return
