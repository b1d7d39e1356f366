"""``manage.py demo_setup``: the demo's users, group and channels (idempotent; resets the passwords)."""

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from instant.models import Channel

# username, password, flags, groups
USERS = [
    ("alice", "alice", {}, ["group1"]),
    ("bob", "bob", {"is_staff": True}, []),
    ("admin", "admin", {"is_staff": True, "is_superuser": True}, []),
]
# name, level, groups
CHANNELS = [
    ("public", Channel.Level.PUBLIC, []),
    ("$users", Channel.Level.USERS, []),
    ("$group1", Channel.Level.GROUPS, ["group1"]),
    ("$staff", Channel.Level.STAFF, []),
]


class Command(BaseCommand):
    help = "Create the demo users (alice in group1, bob staff, admin superuser) and channels."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in ["group1"]}
        for username, password, flags, group_names in USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_active = True
            user.is_staff = flags.get("is_staff", False)
            user.is_superuser = flags.get("is_superuser", False)
            user.set_password(password)
            user.save()
            user.groups.set([groups[g] for g in group_names])
        for name, level, group_names in CHANNELS:
            channel, _ = Channel.objects.get_or_create(name=name, defaults={"level": level})
            channel.level = level
            channel.is_active = True
            channel.save()
            channel.groups.set([groups[g] for g in group_names])
        self.stdout.write(
            "demo data: users alice/alice (group1), bob/bob (staff), admin/admin (superuser); "
            "channels " + ", ".join(name for name, _, _ in CHANNELS)
        )
