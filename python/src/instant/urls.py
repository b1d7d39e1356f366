"""URLs of instant: ``path("instant/", include("instant.urls"))`` (the JS clients expect that prefix)."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.login_and_get_tokens, name="instant-login"),
    path("logout/", views.logout, name="instant-logout"),
    path("get_token/", views.get_connection_token, name="instant-get-token"),
    path("subscribe/", views.channels_subscription, name="instant-subscribe"),
]
