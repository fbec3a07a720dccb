from tortoise import migrations
from tortoise.migrations import operations as ops
from models.session import RevokeReason, SessionKind
from models.user import AccountStatus, UserCategory
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='LoginSlot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(db_index=True, max_length=32)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_slots', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One password check in progress for an auth ID, with its own expiry.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LoginThrottle',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('failures', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_throttles', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Consecutive failures and the lock of one submitted auth ID.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('auth_id', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=104)),
                ('email', fields.CharField(max_length=254)),
                ('phone', fields.CharField(null=True, max_length=12)),
                ('municipality_code', fields.CharField(null=True, max_length=6)),
                ('prefecture_name', fields.CharField(null=True, max_length=16)),
                ('municipality_name', fields.CharField(null=True, max_length=64)),
                ('street', fields.CharField(null=True, max_length=85)),
                ('category', fields.CharEnumField(default=UserCategory.COUNTER_COE_ELECTRONIC, description='COUNTER_COE_ELECTRONIC: counter_coe_electronic', enum_type=UserCategory, max_length=32)),
                ('status', fields.CharEnumField(default=AccountStatus.ACTIVE, description='ACTIVE: active\nSUSPENDED: suspended\nDELETED: deleted\nINVALID: invalid', enum_type=AccountStatus, max_length=16)),
                ('usage_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('password_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('password_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('previous_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id', 'table_description': '利用者: identified by the system-generated 認証ID (auth_id).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('kind', fields.CharEnumField(description='SESSION: session\nCHANGE_TICKET: change_ticket', enum_type=SessionKind, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_reason', fields.CharEnumField(null=True, description='LOGOUT: logout\nDISPLACED: displaced\nIDLE_TIMEOUT: idle_timeout\nLIFETIME: lifetime', enum_type=RevokeReason, max_length=24)),
            ],
            options={'table': 'user_sessions', 'app': 'models', 'indexes': [Index(fields=['user_id', 'revoked_at'])], 'pk_attr': 'id', 'table_description': 'One bearer token. The token itself is never stored, only its SHA-256.'},
            bases=['Model'],
        ),
    ]
