from django.contrib import admin

from portal.library.models import Asset, Collection, Tag


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "status", "visibility", "owner", "updated_at"]
    list_filter = ["kind", "status", "visibility"]
    search_fields = ["title"]
    raw_id_fields = ["owner"]


admin.site.register(Collection)
admin.site.register(Tag)
