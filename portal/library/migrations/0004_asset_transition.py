# Who moved an asset's status, from where to where, and why (portal.library.lifecycle).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('library', '0003_asset_typed_rendition_state'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AssetTransition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(choices=[('draft', 'Draft'), ('uploading', 'Uploading'), ('processing', 'Processing'), ('ready', 'Ready'), ('published', 'Published'), ('failed', 'Failed')], max_length=12)),
                ('to_status', models.CharField(choices=[('draft', 'Draft'), ('uploading', 'Uploading'), ('processing', 'Processing'), ('ready', 'Ready'), ('published', 'Published'), ('failed', 'Failed')], max_length=12)),
                ('reason', models.CharField(max_length=300)),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('asset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='transitions', to='library.asset')),
            ],
            options={
                'indexes': [models.Index(fields=['asset', '-id'], name='asset_transition_newest')],
            },
        ),
    ]
