"""The Channel model, private names, for_user, the admin and the migrations."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader

from instant.init import ensure_channel_is_private, is_private
from instant.models import Channel

pytestmark = pytest.mark.django_db


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "private"),
    [
        ("$chan", "$chan"),
        ("chan", "$chan"),
        ("$ns:chan", "$ns:chan"),
    ],
)
def test_ensure_channel_is_private(name, private):
    assert ensure_channel_is_private(name) == private


def test_fix_namespaced_private_channel_gets_leading_dollar():
    """django-instant made "ns:chan" into "ns:$chan", which the server does not treat as private:
    the "$" must prefix the whole name ("$ns:chan")."""
    assert ensure_channel_is_private("ns:chan") == "$ns:chan"
    assert is_private(ensure_channel_is_private("ns:chan"))


def test_fix_legacy_ns_dollar_name_is_made_private():
    """A name in django-instant's "ns:$chan" form is moved to the private "$ns:chan" form."""
    assert ensure_channel_is_private("ns:$chan") == "$ns:chan"
    assert ensure_channel_is_private("$ns:$chan") == "$ns:chan"


def test_fix_namespaced_name_with_several_colons_is_not_truncated():
    """django-instant turned "a:b:c" into "a:$b", losing ":c"."""
    assert ensure_channel_is_private("a:b:c") == "$a:b:c"


def test_default_level_is_superuser():
    channel = Channel.objects.create(name="chan")
    assert channel.level == Channel.Level.SUPERUSER == "superuser"
    assert channel.name == "$chan"
    assert str(channel) == "$chan"


def test_public_channel_names_are_untouched():
    assert Channel.objects.create(name="chan", level=Channel.Level.PUBLIC).name == "chan"
    assert Channel.objects.create(name="ns:chan", level="public").name == "ns:chan"


def test_private_namespaced_channel_saved_with_leading_dollar():
    assert Channel.objects.create(name="ns:chan", level="users").name == "$ns:chan"
    assert Channel.objects.create(name="ns:$legacy", level="staff").name == "$ns:legacy"


def test_level_choices_and_django_instant_aliases():
    assert Channel.Level.values == ["public", "users", "groups", "staff", "superuser"]
    assert Channel.Level.labels == ["Public", "Users", "Groups", "Staff", "Superuser"]
    # django-instant 4.2 spelled them Level.Public ...
    assert Channel.Level.Public is Channel.Level.PUBLIC
    assert Channel.Level.Superuser is Channel.Level.SUPERUSER
    channel = Channel.objects.create(name="x", level=Channel.Level.Users)
    assert channel.level == "users" and channel.is_private


def test_channel_name_validation():
    with pytest.raises(ValidationError):
        Channel(name="with space", level="public").full_clean()
    with pytest.raises(ValidationError):
        Channel(name="café", level="public").full_clean()
    Channel(name="$ns:ok-1.2_x", level="public").full_clean()


# --- for_user ------------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    g1, g2 = Group.objects.create(name="g1"), Group.objects.create(name="g2")
    chans = {
        "public": Channel.objects.create(name="public", level="public"),
        "$users": Channel.objects.create(name="users", level="users"),
        "$staff": Channel.objects.create(name="staff", level="staff"),
        "$superuser": Channel.objects.create(name="superuser", level="superuser"),
        "$g1": Channel.objects.create(name="g1", level="groups"),
        "$g12": Channel.objects.create(name="g12", level="groups"),
        "$nogroup": Channel.objects.create(name="nogroup", level="groups"),
        "$inactive": Channel.objects.create(name="inactive", level="public", is_active=False),
        "$staff_g2": Channel.objects.create(name="staff_g2", level="staff"),
    }
    chans["$g1"].groups.add(g1)
    chans["$g12"].groups.add(g1, g2)
    chans["$staff_g2"].groups.add(g2)
    chans["public"].groups.add(g1, g2)  # a level-visible channel with several groups
    users = {
        "plain": User.objects.create_user("plain", password="pw"),
        "member": User.objects.create_user("member", password="pw"),
        "staff": User.objects.create_user("staff", password="pw", is_staff=True),
        "super": User.objects.create_superuser("super", password="pw"),
        "super_not_staff": User.objects.create_user("sns", password="pw", is_superuser=True),
        "inactive": User.objects.create_user("inactive", password="pw", is_active=False),
    }
    users["member"].groups.add(g1, g2)
    users["super"].groups.add(g1, g2)
    return chans, users


def names(queryset):
    return list(queryset.values_list("name", flat=True))


def test_for_user_levels(world):
    _, users = world
    assert names(Channel.objects.for_user(users["plain"])) == ["$users", "public"]
    assert names(Channel.objects.for_user(users["member"])) == ["$g1", "$g12", "$staff_g2", "$users", "public"]
    assert names(Channel.objects.for_user(users["staff"])) == ["$staff", "$staff_g2", "$users", "public"]
    assert names(Channel.objects.for_user(users["super"])) == [
        "$g1", "$g12", "$staff", "$staff_g2", "$superuser", "$users", "public",
    ]
    # is_staff and is_superuser are independent flags, as in Django's admin.
    assert names(Channel.objects.for_user(users["super_not_staff"])) == ["$superuser", "$users", "public"]


def test_fix_anonymous_users_get_public_channels(world):
    """django-instant gave anonymous visitors nothing; public channels are for everyone."""
    assert names(Channel.objects.for_user(AnonymousUser())) == ["public"]
    assert names(Channel.objects.for_user(None)) == ["public"]


def test_inactive_user_gets_only_public_channels(world):
    _, users = world
    assert names(Channel.objects.for_user(users["inactive"])) == ["public"]


def test_fix_for_user_returns_no_duplicates(world):
    """django-instant's union without distinct() listed a channel once per matching group."""
    _, users = world
    for user in users.values():
        listed = names(Channel.objects.for_user(user))
        assert len(listed) == len(set(listed)), listed


def test_groups_channel_without_groups_is_visible_to_nobody(world):
    _, users = world
    for user in users.values():
        assert "$nogroup" not in names(Channel.objects.for_user(user))


def test_for_user_is_a_chainable_queryset(world):
    _, users = world
    assert names(Channel.objects.for_user(users["member"]).filter(level="groups")) == ["$g1", "$g12"]
    assert Channel.objects.active().count() == 8


# --- admin ---------------------------------------------------------------------------------------


def test_admin_changelist_filters_search_and_add(client, world):
    _, users = world
    client.force_login(users["super"])
    response = client.get("/admin/instant/channel/")
    assert response.status_code == 200
    content = response.content.decode()
    for column in ("Name", "Authorized for", "Active", "Groups"):
        assert column in content
    assert "By Authorized for" in content or "By authorized for" in content  # list_filter
    response = client.get("/admin/instant/channel/?q=staff")
    assert response.context["cl"].result_count == 2
    response = client.get("/admin/instant/channel/?level__exact=groups")
    assert response.context["cl"].result_count == 3
    response = client.post(
        "/admin/instant/channel/add/",
        {"name": "ops:alerts", "level": "staff", "is_active": "on", "groups": [Group.objects.get(name="g1").pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Channel.objects.get(name="$ops:alerts").groups.get().name == "g1"


def test_admin_actions(client, world):
    _, users = world
    client.force_login(users["super"])
    ids = list(Channel.objects.filter(level="groups").values_list("pk", flat=True))
    client.post("/admin/instant/channel/", {"action": "deactivate", "_selected_action": ids})
    assert not Channel.objects.filter(pk__in=ids, is_active=True).exists()
    client.post("/admin/instant/channel/", {"action": "activate", "_selected_action": ids})
    assert Channel.objects.filter(pk__in=ids, is_active=True).count() == len(ids)


# --- migrations ----------------------------------------------------------------------------------


def test_migrations_match_the_models():
    call_command("makemigrations", "instant", "--check", "--dry-run", verbosity=0)


def test_migration_names_are_django_instants():
    """Databases that ran django-instant's 0001/0002 continue with instant's 0003."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    ours = sorted(name for app, name in loader.disk_migrations if app == "instant")
    assert ours[:2] == ["0001_initial", "0002_alter_channel_level"]


def test_fix_initial_migration_depends_on_auth():
    """django-instant's 0001_initial had a many-to-many to auth.Group but no dependency on auth."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    initial = loader.disk_migrations[("instant", "0001_initial")]
    assert any(app == "auth" for app, _ in initial.dependencies)


@pytest.mark.django_db(transaction=True)
def test_migrate_instant_back_and_forth():
    call_command("migrate", "instant", "zero", verbosity=0)
    call_command("migrate", "instant", verbosity=0)
    assert Channel.objects.create(name="again", level="users").name == "$again"
