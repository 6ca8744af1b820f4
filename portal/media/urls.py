from django.urls import path

from portal.media import views

app_name = "media"
urlpatterns = [
    path("assets/<slug:slug>/download/", views.download, name="download"),
    path("assets/<slug:slug>/media/<path:relative>", views.hls_playlist, name="hls"),
    path("studio/assets/<int:asset_id>/publication/", views.publication, name="publication"),
]
