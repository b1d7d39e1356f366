"""Admin for channels."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _, ngettext

from .models import Channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "level", "is_active", "group_names"]
    list_filter = ["level", "is_active", "groups"]
    search_fields = ["name", "groups__name"]
    filter_horizontal = ["groups"]
    ordering = ["name"]
    actions = ["activate", "deactivate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Channel]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("Groups"))
    def group_names(self, obj: Channel) -> str:
        return ", ".join(sorted(group.name for group in obj.groups.all()))

    @admin.action(description=_("Activate the selected channels"))
    def activate(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        count = queryset.update(is_active=True)
        self.message_user(request, ngettext("%d channel activated.", "%d channels activated.", count) % count)

    @admin.action(description=_("Deactivate the selected channels"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        count = queryset.update(is_active=False)
        self.message_user(request, ngettext("%d channel deactivated.", "%d channels deactivated.", count) % count)
