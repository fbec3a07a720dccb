"""Every mail kind renders, bilingual, into MIME the stdlib parser reads back."""

import base64
import dataclasses
import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from string import Template
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.render import (
    MAIL_TYPES,
    Composer,
    CredentialsReissued,
    Mail,
    PasswordResetLink,
    RegistrationNotice,
    Templates,
    encode_header,
    footer,
    templates,
)
from models import MailKind

NOW = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)
COMPOSER = Composer(
    sender="在留申請オンラインシステム <no-reply@ras-immi.example.jp>",
    public_url="https://portal.example.jp/ras/",
)
SAMPLE_VALUES: dict[type, object] = {
    str: "SAMPLE",
    datetime: datetime(2026, 12, 26, 15, 0, tzinfo=UTC),
    int: 7,
}


def example(mail_type: type[Mail]) -> Mail:
    """An instance with a sample value in every field, whatever the kind."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(mail_type):
        # A class, not a string: the mail modules do not postpone annotations.
        assert isinstance(field.type, type), field
        values[field.name] = SAMPLE_VALUES[field.type]
    values["to"] = "taro@example.com"
    values["name"] = "YAMADA TARO"
    return mail_type(**values)


def parse(message: str) -> EmailMessage:
    parsed = email.message_from_bytes(
        message.encode("ascii"), policy=email.policy.default
    )
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_every_kind_has_a_type_and_templates() -> None:
    assert sorted(t.KIND for t in MAIL_TYPES) == sorted(MailKind)
    assert len({t.KIND for t in MAIL_TYPES}) == len(MAIL_TYPES)


def names(template: Template) -> set[str]:
    return set(template.get_identifiers())


@pytest.mark.parametrize("mail_type", MAIL_TYPES, ids=lambda t: t.KIND.value)
def test_templates_name_only_values_their_kind_has(mail_type: type[Mail]) -> None:
    parts = templates(mail_type.KIND)
    named = names(parts.subject) | names(parts.ja) | names(parts.en)
    named |= names(footer()[0]) | names(footer()[1])

    available = set(COMPOSER.values(example(mail_type)))

    assert named - available == set()
    # Every value the flow has to supply is used in both languages.
    for field in dataclasses.fields(mail_type):
        if field.name == "to":
            continue
        shown = {
            "token": {"link"},
            **{
                f.name: {f"{f.name}_ja", f"{f.name}_en"}
                for f in dataclasses.fields(mail_type)
                if f.type is datetime
            },
        }.get(field.name, {field.name})
        for language in (parts.ja, parts.en):
            assert shown & names(language), (field.name, language.template[:30])


def test_a_template_naming_a_missing_value_fails_to_render(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = templates(MailKind.PASSWORD_RESET)
    broken = Templates(
        subject=real.subject, ja=Template("$name 様、$no_such_value"), en=real.en
    )
    monkeypatch.setattr("mailer.render.templates", lambda kind: broken)

    with pytest.raises(KeyError, match="no_such_value"):
        COMPOSER.compose(example(PasswordResetLink), now=NOW)


@pytest.mark.parametrize("mail_type", MAIL_TYPES, ids=lambda t: t.KIND.value)
def test_every_kind_parses_back_with_correct_headers(mail_type: type[Mail]) -> None:
    mail = example(mail_type)

    composed = COMPOSER.compose(mail, now=NOW)
    parsed = parse(composed.message)

    assert parsed.defects == []
    assert parsed["Subject"] == composed.subject
    assert parsed["Subject"].startswith("【在留申請オンラインシステム】")
    assert " / " in parsed["Subject"]  # Japanese, then English
    assert parsed["From"].addresses[0].display_name == "在留申請オンラインシステム"
    assert parsed["From"].addresses[0].addr_spec == "no-reply@ras-immi.example.jp"
    assert parsed["To"] == "taro@example.com"
    assert parsed["Message-ID"] == composed.message_id
    assert composed.message_id.endswith("@ras-immi.example.jp>")
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    head = composed.message.split("\r\n\r\n", 1)[0].split("\r\n")
    assert all(len(line) <= 76 for line in head if not line.startswith("From:"))
    assert "\n" not in composed.message.replace("\r\n", "")  # CRLF only


@pytest.mark.parametrize("mail_type", MAIL_TYPES, ids=lambda t: t.KIND.value)
def test_body_is_japanese_first_then_english(mail_type: type[Mail]) -> None:
    text = parse(COMPOSER.compose(example(mail_type), now=NOW).message).get_content()

    japanese = text.index("YAMADA TARO 様")
    english = text.index("Dear YAMADA TARO,")

    assert japanese < text.index("(English follows)") < english
    assert "在留申請オンラインシステム" in text[:english]
    assert "Online Residence Application System" in text[english:]
    assert "$" not in text  # nothing left unsubstituted


def test_links_are_built_from_the_public_url_with_the_token_as_query_parameter() -> (
    None
):
    mail = RegistrationNotice(
        to="taro@example.com",
        name="YAMADA TARO",
        auth_id="ABCDEFGH23",
        token="t0k3n-value",
        link_expires_at=datetime(2026, 11, 27, 6, 30, tzinfo=UTC),
    )

    text = parse(COMPOSER.compose(mail, now=NOW).message).get_content()

    assert "https://portal.example.jp/ras/password/setup?token=t0k3n-value" in text
    assert "認証ID：ABCDEFGH23" in text
    # 06:30 UTC is 15:30 in Japan.
    assert "2026年11月27日 15時30分（日本時間）" in text
    assert "27 November 2026, 15:30 Japan time (UTC+9)" in text


def test_a_credentials_reissue_sends_the_auth_id_and_a_reset_link() -> None:
    mail = CredentialsReissued(
        to="taro@example.com",
        name="YAMADA TARO",
        auth_id="ABCDEFGH23",
        token="t0k3n-value",
        link_expires_at=datetime(2026, 11, 27, 6, 30, tzinfo=UTC),
    )

    composed = COMPOSER.compose(mail, now=NOW)
    text = parse(composed.message).get_content()

    assert composed.subject == (
        "【在留申請オンラインシステム】認証IDの再通知とパスワード設定のお願い"
        " / Your auth ID and a link to set your password"
    )
    # The reset page takes the link: the user keeps the current password until
    # a new one is set, unlike the setup link of a first registration.
    assert "https://portal.example.jp/ras/password/reset?token=t0k3n-value" in text
    assert "認証ID：ABCDEFGH23" in text
    assert "Auth ID: ABCDEFGH23" in text
    assert "2026年11月27日 15時30分（日本時間）" in text
    assert "27 November 2026, 15:30 Japan time (UTC+9)" in text
    assert "現在のパスワードも引き続き使用できます" in text
    assert "your current password keeps working" in text
    assert "ヘルプデスク" in text
    assert "help desk" in text


def test_each_mail_gets_its_own_message_id() -> None:
    mail = example(PasswordResetLink)

    ids = {COMPOSER.compose(mail, now=NOW).message_id for _ in range(50)}

    assert len(ids) == 50


def test_a_recipient_that_could_inject_headers_is_refused() -> None:
    mail = dataclasses.replace(
        example(PasswordResetLink), to="taro@example.com\r\nBcc: all@example.com"
    )

    with pytest.raises(ValueError, match="one line"):
        COMPOSER.compose(mail, now=NOW)


header_text = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1)
    .map(str.strip)
    .filter(bool)
)


@given(header_text)
def test_encoded_subjects_round_trip(subject: str) -> None:
    message = f"Subject: {encode_header(subject)}\r\n\r\n"

    parsed = parse(message)

    assert parsed["Subject"] == subject
    assert all(len(line) <= 76 for line in message.split("\r\n"))


@pytest.mark.parametrize(
    "subject",
    ["A" * 200, "パスワード" * 40, "mixed 日本語 and English " * 8, "🙂" * 60],
    ids=["ascii", "japanese", "mixed", "four-byte"],
)
def test_long_subjects_fold_into_whole_characters(subject: str) -> None:
    encoded = encode_header(subject)
    message = f"Subject: {encoded}\r\n\r\n"

    assert parse(message)["Subject"] == subject
    assert all(len(line) <= 76 for line in message.split("\r\n"))
    for word in encoded.split():
        if word.startswith("=?"):
            # Each encoded word holds whole characters (RFC 2047, section 5).
            base64.b64decode(word[10:-2]).decode("utf-8")


def test_an_ascii_sender_name_with_specials_stays_one_mailbox() -> None:
    composer = Composer(
        sender='"Immigration Services Agency, Japan" <no-reply@isa.example.jp>'
    )

    message = composer.compose(example(PasswordResetLink), now=NOW).message
    sender = parse(message)["From"]

    assert len(sender.addresses) == 1
    assert sender.addresses[0].display_name == "Immigration Services Agency, Japan"
    assert composer.envelope_sender == "no-reply@isa.example.jp"
