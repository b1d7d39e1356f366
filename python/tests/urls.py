from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from instant.producers import apublish, apublish_many


async def async_publish_view(request: HttpRequest) -> JsonResponse:
    """An async view publishing with the async API (what a site's async view does)."""
    channel = request.GET["channel"]
    await apublish(channel, "from an async view", event_class="async")
    await apublish_many([{"channel": channel, "message": "batch from an async view"}])
    return JsonResponse({"ok": True})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("instant/", include("instant.urls")),
    path("async-publish/", async_publish_view),
]
