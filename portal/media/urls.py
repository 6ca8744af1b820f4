from django.urls import path

from portal.media import views

app_name = "media"
urlpatterns = [
    path("assets/<slug:slug>/download/", views.download, name="download"),
    path("assets/<slug:slug>/media/<path:relative>", views.hls_playlist, name="hls"),
    path("studio/assets/<int:asset_id>/publication/", views.publication, name="publication"),
    path("assets/<slug:slug>/captions/<str:language>.vtt", views.caption, name="caption"),
    path("studio/assets/<int:asset_id>/captions/", views.caption_start, name="caption_start"),
    path("studio/assets/<int:asset_id>/captions/complete/", views.caption_complete, name="caption_complete"),
    path("studio/captions/<int:caption_id>/remove/", views.caption_remove, name="caption_remove"),
]
