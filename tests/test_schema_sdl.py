"""The committed SDL, the gate against the last release, and what partners
read from it: `@specifiedBy` on the time scalars and `Error.kind`."""

from pathlib import Path
from typing import Any

import pytest
from graphql import (
    build_schema,
    get_introspection_query,
    graphql_sync,
)

from models import User
from schema.admin_root import admin_schema
from schema.contract import (
    ADMIN,
    CONTRACTS,
    PUBLIC,
    Contract,
    check,
    coordinate,
    drift,
    review,
    unreleased_notes,
)
from schema.errors import ErrorKind
from schema.messages import ErrorCode
from schema.root import schema
from tests.support import LOGIN, Caller

BASE = """
type Query {
  "A thing."
  thing(
    "How."
    mode: Mode
    "Old."
    old: Int @deprecated(reason: "unused")
  ): Thing
  "Gone soon."
  legacy: Legacy @deprecated(reason: "use thing")
  "Kept."
  kept: Legacy2
  "Either."
  either: Either
}
"A thing."
type Thing { "Its name." name: String }
"Legacy."
type Legacy { "Its value." value: Int }
"Still in use."
type Legacy2 { "Its value." value: Int }
"One of two."
union Either = Thing | Legacy2
"A mode."
enum Mode {
  "Fast."
  FAST
  "Slow."
  SLOW
  "Old."
  OLD @deprecated(reason: "never answered")
}
"""


def _changelog(*notes: str) -> str:
    lines = "".join(f"- {note}\n" for note in notes)
    return f"# Changelog\n\n## Unreleased\n\n{lines}\n## 1.0.0\n\n- first\n"


def test_unchanged_schema_passes_with_no_notes() -> None:
    found = review(BASE, BASE, _changelog())
    assert found.problems == ()
    assert not found.changed


def test_removing_an_enum_value_not_deprecated_fails() -> None:
    live = BASE.replace('  "Slow."\n  SLOW\n', "")
    found = review(BASE, live, _changelog("`Mode.SLOW` removed"))
    assert len(found.problems) == 1
    assert found.problems[0].startswith("breaking: Enum value Mode.SLOW was removed.")


def test_removing_a_deprecated_enum_value_passes_when_the_changelog_names_it() -> None:
    live = BASE.replace('  "Old."\n  OLD @deprecated(reason: "never answered")\n', "")
    unnamed = review(BASE, live, _changelog("something else"))
    named = review(BASE, live, _changelog("`Mode.OLD` removed"))
    assert len(unnamed.problems) == 1
    assert "does not name `Mode.OLD`" in unnamed.problems[0]
    assert named.problems == ()
    assert named.allowed == ("Enum value Mode.OLD was removed.",)


def test_a_deprecated_field_and_the_type_only_it_led_to_may_go() -> None:
    live = BASE.replace(
        '  "Gone soon."\n  legacy: Legacy @deprecated(reason: "use thing")\n', ""
    ).replace('"Legacy."\ntype Legacy { "Its value." value: Int }\n', "")
    found = review(BASE, live, _changelog("`Query.legacy` and `Legacy` removed"))
    assert found.problems == ()
    assert set(found.allowed) == {
        "Field Query.legacy was removed.",
        "Legacy was removed.",
    }


def test_a_field_or_type_still_in_use_may_not_go() -> None:
    live = BASE.replace('  "Kept."\n  kept: Legacy2\n', "")
    found = review(BASE, live, _changelog("`Query.kept` removed"))
    assert [p.split(" Deprecate")[0] for p in found.problems] == [
        "breaking: Field Query.kept was removed."
    ]


def test_removing_a_root_type_fails_whatever_the_changelog_says() -> None:
    mutation_removed = review(
        BASE + '"Changes."\ntype Mutation { "Do." do: Int }\n',
        BASE,
        _changelog("`Mutation` removed"),
    )
    assert mutation_removed.problems == (
        "breaking: Mutation was removed. Deprecate it with @deprecated(reason:) "
        "in a release first.",
    )


def test_removing_an_implementation_of_an_interface_fails() -> None:
    old = BASE + (
        '"Found by id."\ninterface Node { "Its id." id: ID }\n'
        '"A node."\ntype Foo implements Node { "Its id." id: ID }\n'
    )
    old = old.replace('  "Kept."\n', '  "By id."\n  node: Node\n  "Kept."\n')
    live = old.replace('"A node."\ntype Foo implements Node { "Its id." id: ID }\n', "")
    found = review(old, live, _changelog("`Foo` removed"))
    assert [p.split(" Deprecate")[0] for p in found.problems] == [
        "breaking: Foo was removed."
    ]


def test_a_new_interface_must_be_named_by_the_type_that_gained_it() -> None:
    old = BASE + '"Named."\ninterface Named { "Its name." name: String }\n'
    live = old.replace("type Thing {", "type Thing implements Named {")
    assert review(old, live, _changelog("`Named` grew")).problems != ()
    assert review(old, live, _changelog("`Thing` is `Named`")).problems == ()


def test_removing_a_deprecated_argument_passes_and_a_live_one_fails() -> None:
    without_old = BASE.replace(
        '    "Old."\n    old: Int @deprecated(reason: "unused")\n', ""
    )
    without_mode = BASE.replace('    "How."\n    mode: Mode\n', "")
    assert review(BASE, without_old, _changelog("`Query.thing(old:)`")).problems == ()
    failed = review(BASE, without_mode, _changelog("`Query.thing(mode:)`")).problems
    assert len(failed) == 1
    assert failed[0].startswith("breaking: Argument Query.thing(mode:) was removed.")


def test_changing_a_field_type_fails_even_when_announced() -> None:
    live = BASE.replace('"Its name." name: String', '"Its name." name: Int')
    found = review(BASE, live, _changelog("`Thing.name` is an Int"))
    assert len(found.problems) == 1
    assert "Thing.name changed type from String to Int" in found.problems[0]


def test_a_new_enum_value_must_be_named_in_the_changelog() -> None:
    live = BASE.replace('  "Slow."\n  SLOW\n', '  "Slow."\n  SLOW\n  "New."\n  NEW\n')
    unnamed = review(BASE, live, _changelog("a new mode"))
    assert unnamed.problems == (
        "dangerous: Enum value Mode.NEW was added. Name `Mode.NEW` in CHANGELOG.md's "
        "Unreleased section.",
    )
    # A mention of a longer name is not a mention of this one.
    assert review(BASE, live, _changelog("`Mode.NEWER`")).problems != ()
    assert review(BASE, live, _changelog("`Mode.NEW` for new things")).problems == ()


def test_a_new_union_member_must_be_named_by_the_member() -> None:
    live = BASE.replace(
        "union Either = Thing | Legacy2", "union Either = Thing | Legacy2 | Legacy"
    )
    assert review(BASE, live, _changelog("`Either` grew")).problems != ()
    assert review(BASE, live, _changelog("`Legacy` in `Either`")).problems == ()


def test_a_safe_change_still_needs_unreleased_notes() -> None:
    live = BASE.replace(
        '"Its name." name: String', '"Its name." name: String\n "Its age." age: Int'
    )
    found = review(BASE, live, _changelog())
    assert found.changed
    assert found.problems == (
        "the schema changed since the last release but CHANGELOG.md has no "
        "Unreleased notes",
    )
    assert review(BASE, live, _changelog("`Thing.age`")).problems == ()


def test_unreleased_notes_stop_at_the_next_version() -> None:
    text = "# C\n\n## Unreleased\n\n- a\n- b\n\n## 1.0.0\n\n- old\n"
    assert unreleased_notes(text) == "- a\n- b"
    assert unreleased_notes("# C\n\n## 1.0.0\n\n- old\n") == ""


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Enum value Mode.NEW was added.", "Mode.NEW"),
        ("Field Query.legacy was removed.", "Query.legacy"),
        ("Argument Query.thing(old:) was removed.", "Query.thing(old:)"),
        ("Legacy was removed.", "Legacy"),
        ("An optional argument Query.thing(x:) was added.", "Query.thing(x:)"),
    ],
)
def test_the_coordinate_of_a_change(description: str, expected: str) -> None:
    assert coordinate(description) == expected


def test_the_last_release_is_the_highest_version(tmp_path: Path) -> None:
    for name in [
        "0.9.0.graphql",
        "0.10.0.graphql",
        "0.11.0.admin.graphql",
        "x.graphql",
    ]:
        (tmp_path / name).write_text(name)
    assert PUBLIC.last_release(tmp_path) == ("0.10.0", "0.10.0.graphql")
    assert ADMIN.last_release(tmp_path) == ("0.11.0", "0.11.0.admin.graphql")
    assert PUBLIC.last_release(tmp_path / "none") is None


def test_the_committed_sdl_is_the_live_schema() -> None:
    """Fails when a schema change was not followed by
    `python -m schema.contract write`."""
    assert drift() == []
    assert PUBLIC.committed() == str(schema) + "\n"
    assert ADMIN.committed() == str(admin_schema) + "\n"


def test_a_stale_committed_file_is_reported(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text(str(schema).replace("ErrorKind", "ErrorSort"))
    problems = drift([Contract("public", stale, ".graphql")])
    assert problems == [
        "schema.graphql differs from the live public schema; run "
        "`python -m schema.contract write`"
    ]


def test_the_repository_passes_its_own_gate() -> None:
    assert check() == []


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_a_client_built_from_the_file_alone_sees_the_live_schema(
    contract: Contract,
) -> None:
    """What a code generator reads from `schema.graphql` is what introspection
    of the running service answers: types, descriptions, deprecations and
    `@specifiedBy` included."""
    committed = contract.committed()
    assert committed is not None
    live = admin_schema if contract is ADMIN else schema
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        input_value_deprecation=True,
    )
    from_file = graphql_sync(build_schema(committed), query)
    from_live = graphql_sync(live.graphql_schema, query)
    assert from_file.errors is None
    assert from_file.data is not None
    assert from_live.data is not None
    assert _in_order(from_file.data) == _in_order(from_live.data)


def _in_order(answer: dict[str, Any]) -> dict[str, Any]:
    """An introspection answer with its types and each interface's possible
    types by name (the order is the only thing the printed SDL changes)."""
    types = []
    for kind in sorted(answer["__schema"]["types"], key=lambda t: t["name"]):
        possible = kind.get("possibleTypes")
        if possible:
            kind = {**kind, "possibleTypes": sorted(possible, key=lambda t: t["name"])}
        types.append(kind)
    return {**answer["__schema"], "types": types}


SCALARS = """
query {
  dateTime: __type(name: "DateTime") { kind specifiedByURL description }
  date: __type(name: "Date") { kind specifiedByURL description }
}
"""


def test_time_scalars_say_their_format() -> None:
    result = schema.execute_sync(SCALARS)
    assert result.errors is None
    assert result.data is not None
    assert result.data["dateTime"]["specifiedByURL"] == (
        "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
    )
    assert result.data["date"]["specifiedByURL"] == (
        "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
    )
    assert "RFC 3339" in result.data["dateTime"]["description"]
    assert "YYYY-MM-DD" in result.data["date"]["description"]


def test_every_message_id_has_one_error_kind_of_its_name() -> None:
    assert [kind.name for kind in ErrorKind] == [code.name for code in ErrorCode]
    assert [kind.value for kind in ErrorKind] == [code.value for code in ErrorCode]


KIND_LOGIN = """
mutation Login($authId: String!, $password: String!) {
  login(input: {authId: $authId, password: $password}) {
    __typename
    ... on Error { code kind }
  }
}
"""
ME_BY_KIND = "query { me { __typename ... on Error { code kind } } }"


async def test_an_answered_error_carries_its_kind(execute: Caller, user: User) -> None:
    wrong = await execute(
        KIND_LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"}
    )
    unauthenticated = await execute(ME_BY_KIND)
    assert wrong["login"] == {
        "__typename": "InvalidCredentialsError",
        "code": "WZBAM005E",
        "kind": "INVALID_INPUT",
    }
    assert unauthenticated["me"] == {
        "__typename": "NotAuthenticatedError",
        "code": "RASX002E",
        "kind": "NOT_AUTHENTICATED",
    }
    # LOGIN (without `kind`) still answers as before.
    before = await execute(LOGIN, {"authId": user.auth_id, "password": "Wrong2026$"})
    assert "kind" not in before["login"]


def test_the_catalogue_gives_each_entry_its_kind() -> None:
    from models import Lang

    class Context:
        lang = Lang.EN

    result = schema.execute_sync(
        "{ errorCatalog { code kind } }", context_value=Context()
    )
    assert result.errors is None
    assert result.data is not None
    entries = result.data["errorCatalog"]
    assert len(entries) == len(ErrorCode)
    assert all(ErrorCode(e["code"]).name == e["kind"] for e in entries)


def test_the_removed_input_problem_is_back_and_deprecated() -> None:
    problem = schema.graphql_schema.type_map["InputProblem"]
    assert problem.values["UNAVAILABLE"].deprecation_reason  # type: ignore[attr-defined]
