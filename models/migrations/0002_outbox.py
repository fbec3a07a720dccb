from tortoise import migrations
from tortoise.migrations import operations as ops
from models.outbox import MailKind, MailStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutboxMail',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.CharField(unique=True, max_length=255)),
                ('kind', fields.CharEnumField(description='REGISTRATION: registration\nPASSWORD_REGISTERED: password_registered\nPASSWORD_RESET: password_reset\nPASSWORD_CHANGED: password_changed\nEMAIL_CHANGED: email_changed\nEMAIL_CHANGED_NOTICE: email_changed_notice\nPASSWORD_EXPIRING: password_expiring\nACCOUNT_LOCKED: account_locked', enum_type=MailKind, max_length=32)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='mails', on_delete=OnDelete.SET_NULL)),
                ('recipient', fields.CharField(max_length=254)),
                ('message', fields.TextField(null=True, unique=False)),
                ('status', fields.CharEnumField(default=MailStatus.PENDING, description='PENDING: pending\nSENT: sent\nDEAD: dead', enum_type=MailStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('failures', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claim', fields.CharField(null=True, max_length=32)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('dedupe_key', fields.CharField(null=True, unique=True, max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_mails', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One mail, written in the same transaction as the change it reports.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['password_expires_at']),
        ),
    ]
