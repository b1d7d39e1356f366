"""The demo page, and the two small JSON endpoints its script uses."""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from instant.exceptions import InstantError
from instant.models import Channel
from instant.producers import publish

EVENT_CLASSES = ["", "info", "important"]


def websockets_url(request: HttpRequest) -> str:
    """Where the browser finds the websockets server: INSTANT_DEMO_WS_URL, or the page's host on CENTRIFUGO_PORT."""
    if settings.INSTANT_DEMO_WS_URL:
        return settings.INSTANT_DEMO_WS_URL
    host = request.get_host()  # "127.0.0.1:8000", "localhost", "[::1]:8000"
    if not host.endswith("]") and ":" in host:
        host = host.rsplit(":", 1)[0]
    return f"ws://{host}:{settings.CENTRIFUGO_PORT}"


def index(request: HttpRequest) -> HttpResponse:
    channels = [{"name": c.name, "level": c.level} for c in Channel.objects.active().order_by("name")]
    return render(
        request,
        "demosite/index.html",
        {
            "page_config": {
                "websockets": websockets_url(request),
                "channels": channels,
                "eventClasses": EVENT_CLASSES,
            },
        },
    )


@require_GET
def me(request: HttpRequest) -> JsonResponse:
    user = request.user
    return JsonResponse(
        {
            "authenticated": user.is_authenticated,
            "username": user.get_username() if user.is_authenticated else "",
            "is_staff": bool(user.is_authenticated and user.is_staff),
        }
    )


@require_POST
def publish_view(request: HttpRequest) -> JsonResponse:
    """Staff publish from the page's form: JSON ``{"channel", "message", "event_class"}`` (CSRF-protected)."""
    if not (request.user.is_authenticated and request.user.is_staff):
        return JsonResponse({"error": "only staff may publish from the demo page"}, status=403)
    try:
        body = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    channel = body.get("channel")
    message = (body.get("message") or "").strip()
    event_class = body.get("event_class") or None
    if not Channel.objects.active().filter(name=channel).exists():
        return JsonResponse({"error": f"no active channel {channel!r}"}, status=400)
    if not message:
        return JsonResponse({"error": "write a message"}, status=400)
    if event_class not in EVENT_CLASSES and event_class is not None:
        return JsonResponse({"error": f"event_class must be one of {EVENT_CLASSES[1:]}"}, status=400)
    try:
        publish(channel, message, event_class=event_class, data={"by": request.user.get_username()})
    except InstantError as error:
        return JsonResponse({"error": f"the websockets server refused or is down: {error}"}, status=502)
    return JsonResponse({"ok": True})
