from django.urls import path

from portal.library import views

app_name = "library"
urlpatterns = [
    path("", views.home, name="home"),
    path("browse/", views.browse, name="browse"),
    path("assets/<slug:slug>/", views.asset_detail, name="asset"),
    path("collections/", views.collection_list, name="collections"),
    path("collections/<slug:slug>/", views.collection_detail, name="collection"),
    path("about/", views.about, name="about"),
    path("help/", views.help_page, name="help"),
]
