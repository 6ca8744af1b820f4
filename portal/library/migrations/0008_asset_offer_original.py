# Originals stay private unless the editor offers them (portal.media: visitors otherwise get a copy
# without metadata).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('library', '0007_remove_unchecked_publish_permission'),
    ]

    operations = [
        migrations.AddField(
            model_name='asset',
            name='offer_original',
            field=models.BooleanField(default=False, help_text='Let visitors download the original file, with all its embedded metadata (location, camera serial number...). Otherwise they get a copy without it.'),
        ),
    ]
