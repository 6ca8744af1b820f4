# The camera model moved out of the raw EXIF in MongoDB into a PostgreSQL column
# (filled by `manage.py move_camera_model`).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0001_initial'),
        ('library', '0002_asset_original_filename_asset_public_key_and_more'),
    ]

    operations = [
        migrations.CreateModel(
            name='AssetCameraModel',
            fields=[
                ('asset', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='camera', serialize=False, to='library.asset')),
                ('camera_model', models.CharField(db_index=True, max_length=200)),
            ],
        ),
    ]
