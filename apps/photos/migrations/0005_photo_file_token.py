from django.db import migrations, models
from django.db.models import CharField, Value
from django.db.models.functions import MD5, Cast, Concat, Random

import apps.photos.models


def give_each_photo_its_own_token(apps, schema_editor):
    """One folder per existing photo (AddField's default would give them all the same one),
    in one statement. Their renditions keep the keys they have; new ones go in the folder,
    and a restore moves a photo's files to a folder named by secrets.token_hex."""
    Photo = apps.get_model("photos", "Photo")
    db = schema_editor.connection.alias
    salted_id = Concat(Cast("pk", CharField()), Value(":"), Cast(Random(), CharField()))
    Photo.objects.using(db).update(file_token=MD5(salted_id))


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
