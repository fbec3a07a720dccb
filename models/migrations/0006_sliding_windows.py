from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_step_up')]

    initial = False

    # The fixed-window counters become a key row (locked while counting) and
    # one row per counted request. Counters are short-lived: they start anew.
    operations = [
        ops.DeleteModel(name='RequestThrottle'),
        ops.CreateModel(
            name='RequestThrottle',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=80)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'request_throttles', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Requests of one kind for one key within a sliding window.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RequestEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(max_length=80)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'request_events', 'app': 'models', 'indexes': [Index(fields=['key', 'at'])], 'pk_attr': 'id', 'table_description': 'One counted request of a RequestThrottle key.'},
            bases=['Model'],
        ),
    ]
