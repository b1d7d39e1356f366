from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.index, name="demo-index"),
    path("demo/me/", views.me, name="demo-me"),
    path("demo/publish/", views.publish_view, name="demo-publish"),
    path("instant/", include("instant.urls")),
    path("admin/", admin.site.urls),
]
