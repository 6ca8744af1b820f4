from django.urls import path

from portal.library import history_views
from portal.library import studio_views as views

app_name = "studio"
urlpatterns = [
    path("", views.asset_list, name="asset_list"),
    path("assets/new/", views.asset_create, name="asset_create"),
    path("assets/<int:asset_id>/edit/", views.asset_edit, name="asset_edit"),
    path("assets/<int:asset_id>/preview/", views.asset_preview, name="asset_preview"),
    path("assets/<int:asset_id>/publish/", views.asset_publish, {"publish": True}, name="asset_publish"),
    path("assets/<int:asset_id>/unpublish/", views.asset_publish, {"publish": False}, name="asset_unpublish"),
    path("assets/<int:asset_id>/delete/", views.asset_delete, name="asset_delete"),
    path("collections/", views.collection_list, name="collection_list"),
    path("collections/new/", views.collection_form, name="collection_create"),
    path("collections/<int:collection_id>/edit/", views.collection_form, name="collection_edit"),
    path("collections/<int:collection_id>/delete/", views.collection_delete, name="collection_delete"),
    path("tags/", views.tag_list, name="tag_list"),
]
# Revisions: the same three pages for assets and collections.
for kind in ("asset", "collection"):
    urlpatterns += [
        path(f"{kind}s/<int:object_id>/history/", history_views.history, {"kind": kind}, name=f"{kind}_history"),
        path(f"{kind}s/<int:object_id>/history/compare/", history_views.compare, {"kind": kind},
             name=f"{kind}_compare"),
        path(f"{kind}s/<int:object_id>/history/<int:revision_id>/restore/", history_views.restore, {"kind": kind},
             name=f"{kind}_restore"),
    ]
