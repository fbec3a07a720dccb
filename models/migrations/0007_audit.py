from tortoise import migrations
from tortoise.migrations import operations as ops
from models.audit import AuditType
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_sliding_windows')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditChain',
            fields=[
                ('id', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('seq', fields.BigIntField(default=0)),
                ('hash', fields.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
            ],
            options={'table': 'audit_chain', 'app': 'models', 'pk_attr': 'id', 'table_description': "The chain's head: the last seal, locked while a seal is appended so"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('type', fields.CharEnumField(description='LOGIN_SUCCEEDED: login_succeeded\nLOGIN_FAILED: login_failed\nLOGIN_LOCKED: login_locked\nSESSION_DISPLACED: session_displaced\nSESSION_TIMED_OUT: session_timed_out\nLOGGED_OUT: logged_out\nREAUTHENTICATED: reauthenticated\nPASSWORD_REGISTERED: password_registered\nPASSWORD_CHANGED: password_changed\nPASSWORD_RESET: password_reset\nEMAIL_CHANGED: email_changed\nADDRESS_CHANGED: address_changed\nPHONE_CHANGED: phone_changed\nEMAIL_CHANGE_REVERTED: email_change_reverted\nLINK_ISSUED: link_issued\nLINK_USED: link_used\nLINK_VOIDED: link_voided\nREGISTERED: registered\nLIMIT_HIT: limit_hit\nAUDIT_PURGED: audit_purged', enum_type=AuditType, max_length=32)),
                ('outcome', fields.CharField(max_length=16)),
                ('user_id', fields.IntField(null=True)),
                ('auth_id', fields.CharField(null=True, max_length=32)),
                ('client', fields.CharField(null=True, max_length=64)),
                ('user_agent', fields.CharField(null=True, max_length=200)),
                ('request_id', fields.CharField(null=True, max_length=32)),
                ('detail', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'audit_events', 'app': 'models', 'indexes': [Index(fields=['user_id', 'id']), Index(fields=['type', 'id'])], 'pk_attr': 'id', 'table_description': 'One security event. Never a password, token, link or mail body.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditPending',
            fields=[
                ('event_id', fields.BigIntField(generated=False, primary_key=True, unique=True, db_index=True)),
            ],
            options={'table': 'audit_pending', 'app': 'models', 'pk_attr': 'event_id', 'table_description': 'An event not sealed yet (a queue the sealer empties).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditSeal',
            fields=[
                ('seq', fields.BigIntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('sealed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('events', fields.TextField(unique=False)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'audit_seals', 'app': 'models', 'pk_attr': 'seq', 'table_description': 'One link of the chain: the events sealed in one pass, in order, each'},
            bases=['Model'],
        ),
    ]
