#!/usr/bin/env python3
"""The instant demo site: `make demo` from the repository root sets it up and runs it."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demosite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
