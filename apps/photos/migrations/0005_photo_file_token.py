import secrets

from django.db import migrations, models

import apps.photos.models


def give_each_photo_its_own_token(apps, schema_editor):
    """One random folder per existing photo (AddField's default would give them all one)."""
    Photo = apps.get_model("photos", "Photo")
    db = schema_editor.connection.alias
    for photo_id in Photo.objects.using(db).values_list("pk", flat=True).iterator():
        Photo.objects.using(db).filter(pk=photo_id).update(file_token=secrets.token_hex(16))


class Migration(migrations.Migration):
    dependencies = [
        ("photos", "0004_like_created_at_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="photo",
            name="file_token",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(give_each_photo_its_own_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="photo",
            name="file_token",
            field=models.CharField(default=apps.photos.models.new_file_token, max_length=32),
        ),
    ]
