from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "portal.analytics"
    label = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The senders import nothing of analytics; analytics subscribes to what they announce.
        from portal.analytics import receivers  # noqa: PLC0415 - models are ready only now
        from portal.library.signals import asset_changed, collection_changed  # noqa: PLC0415
        from portal.search.signals import search_performed  # noqa: PLC0415

        search_performed.connect(receivers.on_search_performed, dispatch_uid="analytics.search")
        asset_changed.connect(receivers.on_asset_changed, dispatch_uid="analytics.asset")
        collection_changed.connect(receivers.on_collection_changed, dispatch_uid="analytics.collection")
