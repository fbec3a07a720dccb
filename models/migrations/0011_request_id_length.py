from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_heartbeat')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='AuditEvent',
            name='request_id',
            field=fields.CharField(null=True, max_length=128),
        ),
    ]
