"""The `publish_asset` permission is gone: nothing ever checked it (publishing is for editors,
decided by editor_required and portal.library.policy). Its row goes too, so no group or user keeps
a permission that means nothing."""

from django.db import migrations


def delete_the_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="library", content_type__model="asset",
                              codename="publish_asset").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("library", "0006_asset_source_etag"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(name="asset", options={}),
        # Backwards: nothing to restore by hand; Django re-creates the row from Meta after migrate.
        migrations.RunPython(delete_the_permission, migrations.RunPython.noop),
    ]
