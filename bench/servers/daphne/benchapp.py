"""daphne: the Daphne + Django Channels benchmark peer, a minimal ASGI app.

Speaks the suite's "plain broadcast" protocol (bench/servers/README.md; instant-loadgen --protocol plain):
  GET /connection/websocket  a Channels consumer that joins group "bench", accepts, and sends one text
                             frame {"subscribed":"bench"}
  POST /api/publish          group_send of the request body, unchanged, to group "bench"; each consumer
                             sends it as one text frame; answers 200 {}
  GET /health                200
In-memory channel layer (one process, no Redis). Run:
  BENCH_API_KEY=K daphne -v 0 -e tcp:port=PORT:interface=127.0.0.1:backlog=4096 benchapp:application
(-e instead of -b/-p only to raise Twisted's listen backlog from 50: with 50, a paced connect ramp
already overflows it and clients see resets and 1-3 s SYN retransmits.)

Scale note: InMemoryChannelLayer.receive() and group_send() both call _clean_expired(), which walks
every channel that has a waiting receiver, i.e. every connected consumer: a broadcast to N
subscribers costs O(N^2) in the layer. Measured here: ~330-800 deliveries/s at 1k subscribers, and
no delivery within 15 s at 9k.
"""
import os

import django
from django.conf import settings

# InMemoryChannelLayer (one process, no Redis). capacity: messages queued per consumer before
# group_send drops for it (the default, 100, would drop what the other servers queue).
LAYER = {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10000}}

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only",
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["channels"],
    CHANNEL_LAYERS={"default": LAYER},
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

API_KEY = os.environ.get("BENCH_API_KEY", "").encode()
SUBSCRIBED = '{"subscribed":"bench"}'


class Subscriber(AsyncWebsocketConsumer):
    groups = ["bench"]  # joined by Channels before connect()

    async def connect(self):
        await self.accept()
        await self.send(text_data=SUBSCRIBED)

    async def bench_message(self, event):
        await self.send(text_data=event["text"])


async def respond(send, status, body=b"{}"):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def http_app(scope, receive, send):
    if scope["path"] == "/health":
        return await respond(send, 200)
    if scope["path"] != "/api/publish" or scope["method"] != "POST":
        return await respond(send, 404)
    if API_KEY and dict(scope["headers"]).get(b"x-api-key") != API_KEY:
        return await respond(send, 401)
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await get_channel_layer().group_send("bench", {"type": "bench.message", "text": body.decode()})
    await respond(send, 200)


application = ProtocolTypeRouter({
    "http": http_app,
    "websocket": URLRouter([path("connection/websocket", Subscriber.as_asgi())]),
})
