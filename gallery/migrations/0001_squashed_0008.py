# Migrations 0001-0008, squashed (Django 5.2.19, 2026-12-03); imports no code of the studio.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import DatabaseError, migrations, models, transaction


# The full-text indexes as migration 0008 left them, frozen here as SQL so that later changes
# to gallery/browse/search.py never change what this migration does (a later migration
# changes the index with SQL of its own).
SQLITE_CREATE = [
    "CREATE VIEW IF NOT EXISTS gallery_image_search AS SELECT i.id AS id, i.prompt AS prompt, i.revised_prompt AS revised_prompt, u.username AS owner_name, 'zzo' || i.owner_id || ' zzm' || lower(replace(replace(replace(replace(replace(i.model, '.', ''), '-', ''), ':', ''), '/', ''), '_', '')) || ' zzq' || i.quality || ' zzb' || i.background || ' zzs' || i.source || ' zzf' || replace(i.content_type, 'image/', '') || ' zzw' || i.width || 'x' || i.height || ' zzp' || i.provenance_state || ' zza' || i.ai_generated|| ' zzv' || i.visibility AS facets FROM gallery_image i JOIN auth_user u ON u.id = i.owner_id",
    "CREATE VIRTUAL TABLE IF NOT EXISTS gallery_image_fts USING fts5(prompt, revised_prompt, owner_name, facets, content='gallery_image_search', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS gallery_image_fts_insert AFTER INSERT ON gallery_image BEGIN INSERT INTO gallery_image_fts(rowid, prompt, revised_prompt, owner_name, facets) VALUES (new.id, new.prompt, new.revised_prompt, (SELECT username FROM auth_user WHERE id = new.owner_id), 'zzo' || new.owner_id || ' zzm' || lower(replace(replace(replace(replace(replace(new.model, '.', ''), '-', ''), ':', ''), '/', ''), '_', '')) || ' zzq' || new.quality || ' zzb' || new.background || ' zzs' || new.source || ' zzf' || replace(new.content_type, 'image/', '') || ' zzw' || new.width || 'x' || new.height || ' zzp' || new.provenance_state || ' zza' || new.ai_generated|| ' zzv' || new.visibility); END",
    "CREATE TRIGGER IF NOT EXISTS gallery_image_fts_delete AFTER DELETE ON gallery_image BEGIN INSERT INTO gallery_image_fts(gallery_image_fts, rowid, prompt, revised_prompt, owner_name, facets) VALUES ('delete', old.id, old.prompt, old.revised_prompt, (SELECT username FROM auth_user WHERE id = old.owner_id), 'zzo' || old.owner_id || ' zzm' || lower(replace(replace(replace(replace(replace(old.model, '.', ''), '-', ''), ':', ''), '/', ''), '_', '')) || ' zzq' || old.quality || ' zzb' || old.background || ' zzs' || old.source || ' zzf' || replace(old.content_type, 'image/', '') || ' zzw' || old.width || 'x' || old.height || ' zzp' || old.provenance_state || ' zza' || old.ai_generated|| ' zzv' || old.visibility); END",
    "CREATE TRIGGER IF NOT EXISTS gallery_image_fts_update AFTER UPDATE ON gallery_image BEGIN INSERT INTO gallery_image_fts(gallery_image_fts, rowid, prompt, revised_prompt, owner_name, facets) VALUES ('delete', old.id, old.prompt, old.revised_prompt, (SELECT username FROM auth_user WHERE id = old.owner_id), 'zzo' || old.owner_id || ' zzm' || lower(replace(replace(replace(replace(replace(old.model, '.', ''), '-', ''), ':', ''), '/', ''), '_', '')) || ' zzq' || old.quality || ' zzb' || old.background || ' zzs' || old.source || ' zzf' || replace(old.content_type, 'image/', '') || ' zzw' || old.width || 'x' || old.height || ' zzp' || old.provenance_state || ' zza' || old.ai_generated|| ' zzv' || old.visibility); INSERT INTO gallery_image_fts(rowid, prompt, revised_prompt, owner_name, facets) VALUES (new.id, new.prompt, new.revised_prompt, (SELECT username FROM auth_user WHERE id = new.owner_id), 'zzo' || new.owner_id || ' zzm' || lower(replace(replace(replace(replace(replace(new.model, '.', ''), '-', ''), ':', ''), '/', ''), '_', '')) || ' zzq' || new.quality || ' zzb' || new.background || ' zzs' || new.source || ' zzf' || replace(new.content_type, 'image/', '') || ' zzw' || new.width || 'x' || new.height || ' zzp' || new.provenance_state || ' zza' || new.ai_generated|| ' zzv' || new.visibility); END",
    "CREATE TRIGGER IF NOT EXISTS gallery_image_fts_owner_renamed AFTER UPDATE OF username ON auth_user BEGIN INSERT INTO gallery_image_fts(gallery_image_fts, rowid, prompt, revised_prompt, owner_name, facets) SELECT 'delete', id, prompt, revised_prompt, old.username, 'zzo' || i.owner_id || ' zzm' || lower(replace(replace(replace(replace(replace(i.model, '.', ''), '-', ''), ':', ''), '/', ''), '_', '')) || ' zzq' || i.quality || ' zzb' || i.background || ' zzs' || i.source || ' zzf' || replace(i.content_type, 'image/', '') || ' zzw' || i.width || 'x' || i.height || ' zzp' || i.provenance_state || ' zza' || i.ai_generated|| ' zzv' || i.visibility FROM gallery_image i WHERE owner_id = old.id; INSERT INTO gallery_image_fts(rowid, prompt, revised_prompt, owner_name, facets) SELECT id, prompt, revised_prompt, new.username, 'zzo' || i.owner_id || ' zzm' || lower(replace(replace(replace(replace(replace(i.model, '.', ''), '-', ''), ':', ''), '/', ''), '_', '')) || ' zzq' || i.quality || ' zzb' || i.background || ' zzs' || i.source || ' zzf' || replace(i.content_type, 'image/', '') || ' zzw' || i.width || 'x' || i.height || ' zzp' || i.provenance_state || ' zza' || i.ai_generated|| ' zzv' || i.visibility FROM gallery_image i WHERE owner_id = new.id; END",
    "INSERT INTO gallery_image_fts(gallery_image_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS gallery_image_fts_insert',
    'DROP TRIGGER IF EXISTS gallery_image_fts_delete',
    'DROP TRIGGER IF EXISTS gallery_image_fts_update',
    'DROP TRIGGER IF EXISTS gallery_image_fts_owner_renamed',
    'DROP TABLE IF EXISTS gallery_image_fts',
    'DROP VIEW IF EXISTS gallery_image_search',
]
POSTGRES_CREATE = [
    'ALTER TABLE gallery_image ADD COLUMN IF NOT EXISTS search_vector tsvector',
    "CREATE OR REPLACE FUNCTION gallery_image_search_vector() RETURNS trigger\n    LANGUAGE plpgsql AS $$\n    BEGIN\n      NEW.search_vector := to_tsvector('simple', coalesce(NEW.prompt, ''))\n        || to_tsvector('simple', coalesce(NEW.revised_prompt, ''))\n        || to_tsvector('simple', coalesce(\n             (SELECT username FROM auth_user WHERE id = NEW.owner_id), ''));\n      \n      RETURN NEW;\n    END $$",
    'CREATE TRIGGER gallery_image_search_vector BEFORE INSERT OR UPDATE OF prompt, revised_prompt, owner_id ON gallery_image FOR EACH ROW EXECUTE FUNCTION gallery_image_search_vector()',
    'CREATE OR REPLACE FUNCTION gallery_owner_renamed() RETURNS trigger\n    LANGUAGE plpgsql AS $$\n    BEGIN\n      UPDATE gallery_image SET owner_id = owner_id WHERE owner_id = NEW.id;\n      RETURN NULL;\n    END $$',
    'CREATE TRIGGER gallery_owner_renamed AFTER UPDATE OF username ON auth_user FOR EACH ROW WHEN (OLD.username IS DISTINCT FROM NEW.username) EXECUTE FUNCTION gallery_owner_renamed()',
    'UPDATE gallery_image SET prompt = prompt',
    'CREATE INDEX IF NOT EXISTS gallery_image_search ON gallery_image USING gin (search_vector)',
    'ALTER TABLE gallery_image ADD COLUMN IF NOT EXISTS search_bucketed tsvector',
    "CREATE OR REPLACE FUNCTION gallery_bucketed(v tsvector, bucket bigint)\n    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$\n      SELECT coalesce(string_agg(\n          '''' || replace(replace('b' || bucket || 'x' || lexeme, '\\', '\\\\'), '''', '''''')\n          || '''' || coalesce(':' || array_to_string(positions, ','), ''), ' '), '')::tsvector\n      FROM unnest(v)\n    $$",
    "CREATE OR REPLACE FUNCTION gallery_image_search_vector() RETURNS trigger\n    LANGUAGE plpgsql AS $$\n    BEGIN\n      NEW.search_vector := to_tsvector('simple', coalesce(NEW.prompt, ''))\n        || to_tsvector('simple', coalesce(NEW.revised_prompt, ''))\n        || to_tsvector('simple', coalesce(\n             (SELECT username FROM auth_user WHERE id = NEW.owner_id), ''));\n      NEW.search_bucketed := gallery_bucketed(NEW.search_vector, NEW.id >> 16);\n      RETURN NEW;\n    END $$",
    'UPDATE gallery_image SET search_bucketed = gallery_bucketed(search_vector, id >> 16)',
]
POSTGRES_FILTER_COLUMNS = ('owner_id', 'model', 'source', 'quality', 'background', 'content_type', 'width', 'height', 'provenance_state', 'ai_generated')
POSTGRES_DROP = [
    'DROP INDEX IF EXISTS gallery_image_search_bucketed',
    'ALTER TABLE gallery_image DROP COLUMN IF EXISTS search_bucketed',
    'DROP TRIGGER IF EXISTS gallery_owner_renamed ON auth_user',
    'DROP FUNCTION IF EXISTS gallery_owner_renamed()',
    'DROP TRIGGER IF EXISTS gallery_image_search_vector ON gallery_image',
    'DROP FUNCTION IF EXISTS gallery_image_search_vector()',
    'DROP FUNCTION IF EXISTS gallery_bucketed(tsvector, bigint)',
    'DROP INDEX IF EXISTS gallery_image_search',
    'ALTER TABLE gallery_image DROP COLUMN IF EXISTS search_vector',
]


def create_search_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql, params=None)
    elif vendor == "postgresql":
        for sql in POSTGRES_CREATE:
            schema_editor.execute(sql, params=None)
        _create_postgres_gin(schema_editor.connection)


def _create_postgres_gin(connection):
    """GIN indexes over each tsvector and the filter columns; over the tsvectors alone where
    the btree_gin extension cannot be created (a database user without the right)."""
    columns = POSTGRES_FILTER_COLUMNS
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        except DatabaseError:
            columns = ()
        for index, vector in (("search", "search_vector"), ("search_bucketed", "search_bucketed")):
            cursor.execute(f"DROP INDEX IF EXISTS gallery_image_{index}")
            cursor.execute(
                f"CREATE INDEX gallery_image_{index} ON gallery_image "
                f"USING gin ({', '.join((vector, *columns))})"
            )


def drop_search_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(vendor, []):
        schema_editor.execute(sql, params=None)



class Migration(migrations.Migration):

    replaces = [('gallery', '0001_initial'), ('gallery', '0002_invites'), ('gallery', '0003_visibility'), ('gallery', '0003_engine'), ('gallery', '0004_merge_0003_engine_0003_visibility'), ('gallery', '0005_edits'), ('gallery', '0006_live'), ('gallery', '0005_gallery'), ('gallery', '0007_merge_0005_gallery_0006_live'), ('gallery', '0008_gallery_id_order')]

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='WorkerHeartbeat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hostname', models.CharField(max_length=255, unique=True)),
                ('seen_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='Job',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('generate', 'Generate'), ('edit', 'Edit')], default='generate', max_length=16)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Done'), ('failed', 'Failed'), ('canceled', 'Canceled')], default='queued', max_length=16)),
                ('model', models.CharField(max_length=100)),
                ('prompt', models.TextField()),
                ('params', models.JSONField(default=dict)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('lease_expires_at', models.DateTimeField(blank=True, null=True)),
                ('error', models.TextField(blank=True)),
                ('error_code', models.CharField(blank=True, max_length=100)),
                ('request_id', models.CharField(blank=True, max_length=200)),
                ('usage', models.JSONField(blank=True, null=True)),
                ('cost_usd', models.DecimalField(decimal_places=6, default=0, max_digits=12)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='jobs', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Image',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('index', models.PositiveSmallIntegerField(default=0)),
                ('source', models.CharField(choices=[('generated', 'Generated'), ('edited', 'Edited'), ('upload', 'Upload'), ('composite', 'Composite')], default='generated', max_length=16)),
                ('file', models.FileField(max_length=255, upload_to='')),
                ('sha256', models.CharField(db_index=True, max_length=64)),
                ('content_type', models.CharField(max_length=50)),
                ('byte_size', models.PositiveBigIntegerField()),
                ('width', models.PositiveIntegerField()),
                ('height', models.PositiveIntegerField()),
                ('thumbnail', models.FileField(max_length=255, upload_to='')),
                ('thumbnail_small', models.FileField(max_length=255, upload_to='')),
                ('thumbnail_width', models.PositiveIntegerField()),
                ('thumbnail_height', models.PositiveIntegerField()),
                ('prompt', models.TextField(blank=True)),
                ('model', models.CharField(blank=True, max_length=100)),
                ('quality', models.CharField(blank=True, max_length=16)),
                ('background', models.CharField(blank=True, max_length=16)),
                ('provenance_state', models.CharField(choices=[('pending', 'Not read yet'), ('trusted', 'Trusted signer'), ('valid', 'Valid signature'), ('invalid', 'Invalid credential'), ('tampered', 'Tampered'), ('unreadable', 'Unreadable'), ('none', 'No Content Credentials')], default='pending', max_length=16)),
                ('ai_generated', models.BooleanField(default=False)),
                ('provenance', models.JSONField(blank=True, null=True)),
                ('manifest_json', models.TextField(blank=True)),
                ('cost_usd', models.DecimalField(decimal_places=6, default=0, max_digits=12)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='images', to=settings.AUTH_USER_MODEL)),
                ('job', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='images', to='gallery.job')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Attempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('started_at', models.DateTimeField()),
                ('duration_ms', models.PositiveIntegerField()),
                ('outcome', models.CharField(choices=[('succeeded', 'Succeeded'), ('retrying', 'Failed, will retry'), ('failed', 'Failed')], max_length=16)),
                ('status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('request_id', models.CharField(blank=True, max_length=200)),
                ('error', models.TextField(blank=True)),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempt_log', to='gallery.job')),
            ],
            options={
                'ordering': ['job', 'number'],
            },
        ),
        migrations.AddIndex(
            model_name='job',
            index=models.Index(fields=['status', 'created_at'], name='gallery_job_status_39d94f_idx'),
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['-created_at', '-id'], name='image_newest'),
        ),
        migrations.AddConstraint(
            model_name='image',
            constraint=models.UniqueConstraint(condition=models.Q(('job__isnull', False)), fields=('job', 'index', 'source'), name='one_output_per_job_index'),
        ),
        migrations.AddConstraint(
            model_name='attempt',
            constraint=models.UniqueConstraint(fields=('job', 'number'), name='one_attempt_per_number'),
        ),
        migrations.CreateModel(
            name='Invite',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('expires_at', models.DateTimeField()),
                ('used_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='invites_made', to=settings.AUTH_USER_MODEL)),
                ('used_by', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='invite_used', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='Profile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('default_visibility', models.CharField(choices=[('shared', 'Shared'), ('private', 'Private')], default='shared', max_length=8)),
            ],
        ),
        migrations.AddField(
            model_name='image',
            name='visibility',
            field=models.CharField(choices=[('shared', 'Shared'), ('private', 'Private')], default='shared', max_length=8),
        ),
        migrations.AddField(
            model_name='job',
            name='visibility',
            field=models.CharField(choices=[('shared', 'Shared'), ('private', 'Private')], default='shared', max_length=8),
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['visibility', '-created_at', '-id'], name='image_visible_newest'),
        ),
        migrations.AddField(
            model_name='profile',
            name='user',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='studio_profile', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='attempt',
            name='api_ms',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='attempt',
            name='image_count',
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='job',
            name='lease_holder',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='job',
            name='losses',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name='attempt',
            name='duration_ms',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name='attempt',
            name='outcome',
            field=models.CharField(choices=[('in_progress', 'In progress'), ('succeeded', 'Succeeded'), ('retrying', 'Failed, will retry'), ('failed', 'Failed'), ('worker_lost', 'Worker stopped mid-call')], max_length=16),
        ),
        migrations.AlterField(
            model_name='attempt',
            name='started_at',
            field=models.DateTimeField(db_index=True),
        ),
        migrations.AddIndex(
            model_name='job',
            index=models.Index(fields=['status', 'owner'], name='job_status_owner'),
        ),
        migrations.AddField(
            model_name='job',
            name='mask',
            field=models.FileField(blank=True, max_length=255, upload_to=''),
        ),
        migrations.CreateModel(
            name='ImageParent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('role', models.CharField(choices=[('input', 'Input'), ('masked_input', 'Input (masked)'), ('edit', 'Model output'), ('original', 'Original')], max_length=16)),
                ('position', models.PositiveSmallIntegerField(default=0)),
                ('child', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='parent_links', to='gallery.image')),
                ('parent', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='child_links', to='gallery.image')),
            ],
            options={
                'ordering': ['child', 'position'],
                'constraints': [models.UniqueConstraint(fields=('child', 'parent', 'role'), name='one_link_per_role')],
            },
        ),
        migrations.CreateModel(
            name='JobInput',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField()),
                ('image', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='used_as_input', to='gallery.image')),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inputs', to='gallery.job')),
            ],
            options={
                'ordering': ['job', 'position'],
                'constraints': [models.UniqueConstraint(fields=('job', 'position'), name='one_input_per_position')],
            },
        ),
        migrations.AddField(
            model_name='job',
            name='estimate_usd',
            field=models.DecimalField(decimal_places=6, default=0, max_digits=12),
        ),
        migrations.AddField(
            model_name='job',
            name='partial_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='job',
            name='partial_file',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='job',
            name='partial_index',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='job',
            name='retry_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='retries', to='gallery.job'),
        ),
        migrations.AddField(
            model_name='profile',
            name='monthly_budget_usd',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True, verbose_name='monthly budget (USD)'),
        ),
        migrations.AddIndex(
            model_name='job',
            index=models.Index(fields=['owner', 'created_at'], name='job_owner_created'),
        ),
        migrations.CreateModel(
            name='Board',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='BoardImage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('added_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name='Favourite',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name='image',
            name='revised_prompt',
            field=models.TextField(blank=True),
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['owner', '-created_at', '-id'], name='image_owner_newest'),
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['model', '-created_at', '-id'], name='image_model_newest'),
        ),
        migrations.AddField(
            model_name='board',
            name='owner',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='boards', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='job',
            name='board',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='jobs', to='gallery.board'),
        ),
        migrations.AddField(
            model_name='boardimage',
            name='board',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='gallery.board'),
        ),
        migrations.AddField(
            model_name='boardimage',
            name='image',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='gallery.image'),
        ),
        migrations.AddField(
            model_name='board',
            name='images',
            field=models.ManyToManyField(related_name='boards', through='gallery.BoardImage', to='gallery.image'),
        ),
        migrations.AddField(
            model_name='favourite',
            name='image',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='favourites', to='gallery.image'),
        ),
        migrations.AddField(
            model_name='favourite',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='favourites', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='boardimage',
            constraint=models.UniqueConstraint(fields=('board', 'image'), name='one_entry_per_board_image'),
        ),
        migrations.AddConstraint(
            model_name='board',
            constraint=models.UniqueConstraint(fields=('owner', 'name'), name='one_board_name_per_owner'),
        ),
        migrations.AddConstraint(
            model_name='favourite',
            constraint=models.UniqueConstraint(fields=('user', 'image'), name='one_star_per_user_image'),
        ),
        migrations.AlterModelOptions(
            name='image',
            options={'ordering': ['-id']},
        ),
        migrations.RemoveIndex(
            model_name='image',
            name='image_visible_newest',
        ),
        migrations.RemoveIndex(
            model_name='image',
            name='image_owner_newest',
        ),
        migrations.RemoveIndex(
            model_name='image',
            name='image_model_newest',
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['visibility', '-id'], name='image_visible_id'),
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['owner', '-id'], name='image_owner_id'),
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['model', '-id'], name='image_model_id'),
        ),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
