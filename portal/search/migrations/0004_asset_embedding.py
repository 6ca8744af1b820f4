"""The extension (0003 checked that the server has it; creating it needs a superuser or the database
owner on a managed server, the local stack creates it in template1 beforehand) and the embeddings
table with its HNSW index. One transaction: all of it or none."""

import django.db.models.deletion
import pgvector.django.extensions
import pgvector.django.indexes
import pgvector.django.vector
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('library', '0008_asset_offer_original'),
        ('search', '0003_vector_available'),
    ]

    operations = [
        pgvector.django.extensions.VectorExtension(),
        migrations.CreateModel(
            name='AssetEmbedding',
            fields=[
                ('asset', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='embedding', serialize=False, to='library.asset')),
                ('embedding', pgvector.django.vector.VectorField(dimensions=384)),
                ('source_digest', models.CharField(max_length=64)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'indexes': [pgvector.django.indexes.HnswIndex(ef_construction=64, fields=['embedding'], m=16, name='asset_embedding_hnsw', opclasses=['vector_cosine_ops'])],
            },
        ),
    ]
