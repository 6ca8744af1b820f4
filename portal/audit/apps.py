from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "portal.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed  # noqa: PLC0415

        from portal.audit import receivers  # noqa: PLC0415 - imports models, not ready at import
        from portal.library.signals import asset_changed, collection_changed  # noqa: PLC0415

        user_logged_in.connect(receivers.on_logged_in, dispatch_uid="audit.signed_in")
        user_login_failed.connect(receivers.on_login_failed, dispatch_uid="audit.sign_in_failed")
        asset_changed.connect(receivers.on_asset_changed, dispatch_uid="audit.asset")
        collection_changed.connect(receivers.on_collection_changed, dispatch_uid="audit.collection")
