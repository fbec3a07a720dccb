from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PostalCode',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=7)),
                ('places', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'postal_codes', 'app': 'models', 'pk_attr': 'code', 'table_description': "郵便番号 to municipality and town, from Japan Post's data."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Prefecture',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=2)),
                ('name', fields.CharField(max_length=8)),
                ('kana', fields.CharField(max_length=16)),
                ('romaji', fields.CharField(max_length=32)),
            ],
            options={'table': 'prefectures', 'app': 'models', 'pk_attr': 'code', 'table_description': "都道府県, loaded from Japan Post's data."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Municipality',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=6)),
                ('prefecture', fields.ForeignKeyField('models.Prefecture', source_field='prefecture_id', db_constraint=True, to_field='code', related_name='municipalities', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=32)),
                ('kana', fields.CharField(max_length=64)),
                ('romaji', fields.CharField(max_length=96)),
                ('name_key', fields.CharField(max_length=32)),
                ('kana_key', fields.CharField(max_length=64)),
                ('romaji_key', fields.CharField(max_length=96)),
                ('full_name_key', fields.CharField(max_length=40)),
                ('full_kana_key', fields.CharField(max_length=80)),
                ('full_romaji_key', fields.CharField(max_length=128)),
            ],
            options={'table': 'municipalities', 'app': 'models', 'indexes': [Index(fields=['prefecture_id', 'code'])], 'pk_attr': 'code', 'table_description': "市区町村 by 全国地方公共団体コード, from Japan Post's data."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReferenceData',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('version', fields.CharField(max_length=64)),
                ('rows', fields.IntField()),
                ('loaded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reference_data', 'app': 'models', 'pk_attr': 'name', 'table_description': 'The source version each reference data set was loaded from.'},
            bases=['Model'],
        ),
    ]
