"""The ``Channel`` model: which users may subscribe to which channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .init import ensure_channel_is_private

if TYPE_CHECKING:
    from .token import UserLike

# The server accepts ASCII channel names (Centrifugo v4+ rule) of at most 255 bytes.
channel_name_validator = RegexValidator(
    r"^[\x21-\x7e]+$",
    _("Channel names are ASCII letters, digits and punctuation, without spaces."),
    code="invalid_channel",
)


class ChannelQuerySet(models.QuerySet["Channel"]):
    def active(self) -> ChannelQuerySet:
        return self.filter(is_active=True)

    def for_user(self, user: UserLike | None) -> ChannelQuerySet:
        """The active channels ``user`` may subscribe to, each once, ordered by name.

        * ``public``: everyone, anonymous visitors included;
        * ``users``: any authenticated (active) user;
        * ``staff``: users with ``is_staff``; ``superuser``: users with ``is_superuser`` (the two
          flags are independent, as in Django's admin);
        * ``groups``: members of one of the channel's groups. A group attached to a channel of
          any other level also grants its members access.
        """
        public = Q(level=Channel.Level.PUBLIC)
        if user is None or not user.is_authenticated or not getattr(user, "is_active", True):
            return self.active().filter(public).order_by("name")
        levels = [Channel.Level.PUBLIC, Channel.Level.USERS]
        if getattr(user, "is_staff", False):
            levels.append(Channel.Level.STAFF)
        if getattr(user, "is_superuser", False):
            levels.append(Channel.Level.SUPERUSER)
        allowed = Q(level__in=levels)
        groups = getattr(user, "groups", None)
        if groups is not None:
            allowed |= Q(pk__in=Channel.groups.through.objects.filter(group__in=groups.all()).values("channel_id"))
        # pk__in subqueries instead of joins: a channel comes back once however many groups match.
        return self.active().filter(allowed).order_by("name")


class ChannelManager(models.Manager.from_queryset(ChannelQuerySet)):  # type: ignore[misc]
    pass


class Channel(models.Model):
    """A channel users can be granted: by level, and by group membership.

    Non-public channels are made private on save: their name gets the ``$`` prefix (see
    :func:`instant.init.ensure_channel_is_private`), so the server only lets in holders of a
    subscription token, which instant's endpoints issue to the users :meth:`ChannelQuerySet.for_user`
    allows.
    """

    class Level(models.TextChoices):
        PUBLIC = "public", _("Public")
        USERS = "users", _("Users")
        GROUPS = "groups", _("Groups")
        STAFF = "staff", _("Staff")
        SUPERUSER = "superuser", _("Superuser")

    name = models.CharField(
        max_length=120,
        verbose_name=_("Name"),
        unique=True,
        validators=[channel_name_validator],
        help_text=_(
            "Non public channels are made private with a $ prefix on save: ex: $private_chan, "
            "$namespace:chan"
        ),
    )
    level = models.CharField(
        max_length=20,
        choices=Level.choices,
        verbose_name=_("Authorized for"),
        default=Level.SUPERUSER,
    )
    is_active = models.BooleanField(default=True, verbose_name=_("Active"))
    groups = models.ManyToManyField(Group, blank=True, verbose_name=_("Groups"))

    objects = ChannelManager()

    class Meta:
        verbose_name = _("Channel")
        verbose_name_plural = _("Channels")
        ordering = ["name"]

    def __str__(self) -> str:
        return str(self.name)

    @property
    def is_private(self) -> bool:
        return str(self.name).startswith("$")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.level != Channel.Level.PUBLIC:
            self.name = ensure_channel_is_private(str(self.name))
        super().save(*args, **kwargs)


# django-instant 4.2 spelled the members Level.Public, Level.Users...: keep those names as aliases.
for _member in Channel.Level:
    setattr(Channel.Level, _member.name.capitalize(), _member)
del _member
