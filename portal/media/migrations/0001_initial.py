# The publication task's progress per asset (portal.media.publication).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('library', '0004_asset_transition'),
    ]

    operations = [
        migrations.CreateModel(
            name='Publication',
            fields=[
                ('asset', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='publication', serialize=False, to='library.asset')),
                ('state', models.CharField(choices=[('pending', 'Queued'), ('copying', 'Publishing'), ('removing', 'Removing the public copy'), ('retrying', 'Waiting to retry'), ('done', 'Up to date')], default='pending', max_length=10)),
                ('done', models.PositiveIntegerField(default=0)),
                ('total', models.PositiveIntegerField(default=0)),
                ('error', models.TextField(blank=True)),
                ('target_key', models.CharField(blank=True, max_length=200)),
                ('target_from', models.CharField(blank=True, max_length=500)),
                ('copied_from', models.CharField(blank=True, max_length=500)),
                ('requested_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
