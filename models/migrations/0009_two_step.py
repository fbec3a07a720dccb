from tortoise import migrations
from tortoise.migrations import operations as ops
from models.audit import AuditType
from models.outbox import MailKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_staff')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginChallenge',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('password_check', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_challenges', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The code step of a login: the password was right, a one-time code is'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RecoveryCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(db_index=True)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recovery_codes', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One single-use recovery code, kept only as its keyed hash (see'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='AuditEvent',
            name='type',
            field=fields.CharEnumField(description='LOGIN_SUCCEEDED: login_succeeded\nLOGIN_FAILED: login_failed\nLOGIN_LOCKED: login_locked\nSESSION_DISPLACED: session_displaced\nSESSION_TIMED_OUT: session_timed_out\nLOGGED_OUT: logged_out\nREAUTHENTICATED: reauthenticated\nPASSWORD_REGISTERED: password_registered\nPASSWORD_CHANGED: password_changed\nPASSWORD_RESET: password_reset\nEMAIL_CHANGED: email_changed\nADDRESS_CHANGED: address_changed\nPHONE_CHANGED: phone_changed\nEMAIL_CHANGE_REVERTED: email_change_reverted\nLINK_ISSUED: link_issued\nLINK_USED: link_used\nLINK_VOIDED: link_voided\nREGISTERED: registered\nLIMIT_HIT: limit_hit\nAUDIT_PURGED: audit_purged\nUSER_UNLOCKED: user_unlocked\nUSER_SUSPENDED: user_suspended\nUSER_REINSTATED: user_reinstated\nUSER_DELETED: user_deleted\nUSER_MARKED_INVALID: user_marked_invalid\nUSAGE_EXPIRY_SET: usage_expiry_set\nPASSWORD_EXPIRED: password_expired\nSESSIONS_REVOKED: sessions_revoked\nCREDENTIALS_REISSUED: credentials_reissued\nMAIL_RETRIED: mail_retried\nNOTICE_PUBLISHED: notice_published\nNOTICE_WITHDRAWN: notice_withdrawn\nSTAFF_CREATED: staff_created\nSTAFF_DISABLED: staff_disabled\nSTAFF_ROLE_SET: staff_role_set\nSTAFF_TOTP_RESET: staff_totp_reset\nTWO_STEP_CHALLENGED: two_step_challenged\nTWO_STEP_ENROLLMENT_BEGUN: two_step_enrollment_begun\nTWO_STEP_ENABLED: two_step_enabled\nTWO_STEP_DISABLED: two_step_disabled\nRECOVERY_CODE_USED: recovery_code_used\nRECOVERY_CODES_REGENERATED: recovery_codes_regenerated\nTWO_STEP_RESET: two_step_reset', enum_type=AuditType, max_length=32),
        ),
        ops.AddField(
            model_name='LoginThrottle',
            name='code_failures',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AlterField(
            model_name='OutboxMail',
            name='kind',
            field=fields.CharEnumField(description='REGISTRATION: registration\nREGISTRATION_EXISTING: registration_existing\nPASSWORD_REGISTERED: password_registered\nPASSWORD_RESET: password_reset\nPASSWORD_CHANGED: password_changed\nEMAIL_CHANGED: email_changed\nEMAIL_CHANGED_NOTICE: email_changed_notice\nPASSWORD_EXPIRING: password_expiring\nACCOUNT_LOCKED: account_locked\nCREDENTIALS_REISSUED: credentials_reissued\nTWO_STEP_ENABLED: two_step_enabled\nTWO_STEP_DISABLED: two_step_disabled\nRECOVERY_CODE_USED: recovery_code_used\nTWO_STEP_RESET: two_step_reset\nRECOVERY_CODES_REGENERATED: recovery_codes_regenerated', enum_type=MailKind, max_length=32),
        ),
        ops.AddField(
            model_name='User',
            name='totp_enabled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='totp_last_step',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='User',
            name='totp_pending_secret',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name='User',
            name='totp_pending_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='totp_secret',
            field=fields.CharField(null=True, max_length=255),
        ),
    ]
