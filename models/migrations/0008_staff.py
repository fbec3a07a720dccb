from tortoise import migrations
from tortoise.migrations import operations as ops
from models.audit import AuditType
from models.outbox import MailKind
from models.session import RevokeReason
from models.staff import StaffRole
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Notice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title_ja', fields.CharField(max_length=200)),
                ('title_en', fields.CharField(max_length=200)),
                ('body_ja', fields.TextField(unique=False)),
                ('body_en', fields.TextField(unique=False)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('published_by', fields.IntField()),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_by', fields.IntField(null=True)),
            ],
            options={'table': 'notices', 'app': 'models', 'indexes': [Index(fields=['ends_at', 'starts_at'])], 'pk_attr': 'id', 'table_description': "お知らせ: a notice on the portal's top page, shown while its window"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Staff',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('login_id', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=104)),
                ('role', fields.CharEnumField(description='VIEWER: viewer\nOPERATOR: operator\nADMIN: admin', enum_type=StaffRole, max_length=16)),
                ('password_hash', fields.CharField(max_length=255)),
                ('totp_secret', fields.CharField(max_length=64)),
                ('totp_last_step', fields.BigIntField(null=True)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One staff member. The TOTP secret is kept as the authenticator app has'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff_id', fields.IntField(db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_sessions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A staff login, kept as the SHA-256 of its token. Ends when idle for the'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='AuditEvent',
            name='type',
            field=fields.CharEnumField(description='LOGIN_SUCCEEDED: login_succeeded\nLOGIN_FAILED: login_failed\nLOGIN_LOCKED: login_locked\nSESSION_DISPLACED: session_displaced\nSESSION_TIMED_OUT: session_timed_out\nLOGGED_OUT: logged_out\nREAUTHENTICATED: reauthenticated\nPASSWORD_REGISTERED: password_registered\nPASSWORD_CHANGED: password_changed\nPASSWORD_RESET: password_reset\nEMAIL_CHANGED: email_changed\nADDRESS_CHANGED: address_changed\nPHONE_CHANGED: phone_changed\nEMAIL_CHANGE_REVERTED: email_change_reverted\nLINK_ISSUED: link_issued\nLINK_USED: link_used\nLINK_VOIDED: link_voided\nREGISTERED: registered\nLIMIT_HIT: limit_hit\nAUDIT_PURGED: audit_purged\nUSER_UNLOCKED: user_unlocked\nUSER_SUSPENDED: user_suspended\nUSER_REINSTATED: user_reinstated\nUSER_DELETED: user_deleted\nUSER_MARKED_INVALID: user_marked_invalid\nUSAGE_EXPIRY_SET: usage_expiry_set\nPASSWORD_EXPIRED: password_expired\nSESSIONS_REVOKED: sessions_revoked\nCREDENTIALS_REISSUED: credentials_reissued\nMAIL_RETRIED: mail_retried\nNOTICE_PUBLISHED: notice_published\nNOTICE_WITHDRAWN: notice_withdrawn\nSTAFF_CREATED: staff_created\nSTAFF_DISABLED: staff_disabled\nSTAFF_ROLE_SET: staff_role_set\nSTAFF_TOTP_RESET: staff_totp_reset', enum_type=AuditType, max_length=32),
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='reason',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='staff_id',
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['staff_id', 'id']),
        ),
        ops.AlterField(
            model_name='OutboxMail',
            name='kind',
            field=fields.CharEnumField(description='REGISTRATION: registration\nREGISTRATION_EXISTING: registration_existing\nPASSWORD_REGISTERED: password_registered\nPASSWORD_RESET: password_reset\nPASSWORD_CHANGED: password_changed\nEMAIL_CHANGED: email_changed\nEMAIL_CHANGED_NOTICE: email_changed_notice\nPASSWORD_EXPIRING: password_expiring\nACCOUNT_LOCKED: account_locked\nCREDENTIALS_REISSUED: credentials_reissued', enum_type=MailKind, max_length=32),
        ),
        ops.AlterField(
            model_name='UserSession',
            name='revoked_reason',
            field=fields.CharEnumField(null=True, description='LOGOUT: logout\nDISPLACED: displaced\nIDLE_TIMEOUT: idle_timeout\nLIFETIME: lifetime\nPASSWORD_CHANGED: password_changed\nPASSWORD_RESET: password_reset\nACCOUNT_LOCKED: account_locked\nEMAIL_REVERTED: email_reverted\nSTAFF: staff', enum_type=RevokeReason, max_length=24),
        ),
        ops.AddField(
            model_name='UserSession',
            name='client',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
