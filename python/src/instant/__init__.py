"""instant: real-time push for Django sites, on the instant websockets server.

The drop-in successor of django-instant. Publish from anywhere in your code::

    from instant.producers import publish

    publish("$users", "Message", event_class="important")

See the package README for settings, channel levels and the migration from django-instant.
"""

__version__ = "0.1.0"
