from tortoise import migrations
from tortoise.migrations import operations as ops
from models.link import LinkPurpose
from models.outbox import MailKind
from models.session import RevokeReason
from models.user import Lang
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_addresses')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LinkToken',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='links', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='PASSWORD_SETUP: password_setup\nPASSWORD_RESET: password_reset\nEMAIL_REVERT: email_revert', enum_type=LinkPurpose, max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('voided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('restore_email', fields.CharField(null=True, max_length=254)),
            ],
            options={'table': 'link_tokens', 'app': 'models', 'indexes': [Index(fields=['user_id', 'purpose'])], 'pk_attr': 'id', 'table_description': 'One mailed link, kept only as the SHA-256 of its token.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PasswordHistory',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='old_passwords', on_delete=OnDelete.CASCADE)),
                ('password_hash', fields.CharField(max_length=255)),
                ('replaced_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'password_history', 'app': 'models', 'indexes': [Index(fields=['user_id', 'replaced_at'])], 'pk_attr': 'id', 'table_description': 'A password the user had before, as its argon2 hash.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RequestThrottle',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=80)),
                ('window_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('count', fields.IntField(default=0)),
            ],
            options={'table': 'request_throttles', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Requests of one kind for one key in the current window.'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='OutboxMail',
            name='kind',
            field=fields.CharEnumField(description='REGISTRATION: registration\nREGISTRATION_EXISTING: registration_existing\nPASSWORD_REGISTERED: password_registered\nPASSWORD_RESET: password_reset\nPASSWORD_CHANGED: password_changed\nEMAIL_CHANGED: email_changed\nEMAIL_CHANGED_NOTICE: email_changed_notice\nPASSWORD_EXPIRING: password_expiring\nACCOUNT_LOCKED: account_locked', enum_type=MailKind, max_length=32),
        ),
        ops.AddField(
            model_name='User',
            name='date_of_birth',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='User',
            name='email_key',
            field=fields.CharField(null=True, unique=True, max_length=254),
        ),
        ops.AddField(
            model_name='User',
            name='language',
            field=fields.CharEnumField(default=Lang.JA, description='JA: ja\nEN: en', db_default='ja', enum_type=Lang, max_length=2),
        ),
        ops.AddField(
            model_name='User',
            name='nationality',
            field=fields.CharField(null=True, max_length=3),
        ),
        ops.AlterField(
            model_name='UserSession',
            name='revoked_reason',
            field=fields.CharEnumField(null=True, description='LOGOUT: logout\nDISPLACED: displaced\nIDLE_TIMEOUT: idle_timeout\nLIFETIME: lifetime\nPASSWORD_CHANGED: password_changed\nPASSWORD_RESET: password_reset\nACCOUNT_LOCKED: account_locked\nEMAIL_REVERTED: email_reverted', enum_type=RevokeReason, max_length=24),
        ),
        # Existing accounts get the key where their address is the first of its
        # kind; later duplicates (made by hand before registration existed) keep
        # NULL rather than failing the migration.
        ops.RunSQL(
            "UPDATE users SET email_key = LOWER(TRIM(email)) WHERE id IN "
            "(SELECT MIN(id) FROM users GROUP BY LOWER(TRIM(email)))",
            reverse_sql="UPDATE users SET email_key = NULL",
        ),
    ]
