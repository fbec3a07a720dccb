"""The partners' contract as files: the committed SDL, the released SDLs and the
gate between them.

`schema.graphql` (public) and `admin-schema.graphql` at the repository root are
the live schemas printed; `schema/released/<version>.graphql` (and
`<version>.admin.graphql`) are what each release shipped. The gate compares the
live schema with the last release using graphql-core's change finder:

- a breaking change fails, unless the element it removes was already
  `@deprecated` in that release (a removed type passes only when every field,
  argument and input field that led to it was deprecated);
- a dangerous change (a new enum value or union member, a new optional argument
  or input field, a changed default) must be named in CHANGELOG.md's
  "Unreleased" section, and so must a removal the deprecation allowed;
- any other change needs that section to say something.

`python -m schema.contract write` regenerates both files; `check` is the CI step.
"""

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_named_type,
)

ROOT = Path(__file__).resolve().parents[1]
RELEASED = Path(__file__).resolve().parent / "released"
CHANGELOG = ROOT / "CHANGELOG.md"
WRITE_COMMAND = "python -m schema.contract write"


@dataclass(frozen=True, slots=True)
class Contract:
    """One of the two APIs: the file its SDL is committed in and the suffix of
    its released SDLs."""

    name: str
    path: Path
    released_suffix: str

    def live(self) -> str:
        """The SDL of the schema this code builds."""
        if self.name == "admin":
            from schema.admin_root import admin_schema as built
        else:
            from schema.root import schema as built
        return str(built) + "\n"

    def committed(self) -> str | None:
        return self.path.read_text(encoding="utf-8") if self.path.exists() else None

    def last_release(self, folder: Path = RELEASED) -> tuple[str, str] | None:
        """(version, SDL) of the newest release, or None before the first."""
        found: list[tuple[tuple[int, ...], str, Path]] = []
        for path in folder.glob(f"*{self.released_suffix}"):
            version = path.name.removesuffix(self.released_suffix)
            # "0.1.0.admin.graphql" also ends in ".graphql": "0.1.0.admin" is
            # not a version, so the public contract passes it by.
            if re.fullmatch(r"\d+(\.\d+)*", version):
                key = tuple(int(part) for part in version.split("."))
                found.append((key, version, path))
        if not found:
            return None
        _, version, path = max(found)
        return version, path.read_text(encoding="utf-8")


PUBLIC = Contract("public", ROOT / "schema.graphql", ".graphql")
ADMIN = Contract("admin", ROOT / "admin-schema.graphql", ".admin.graphql")
CONTRACTS = (PUBLIC, ADMIN)


def unreleased_notes(changelog: str) -> str:
    """The text of CHANGELOG.md's "## Unreleased" section (empty if none)."""
    match = re.search(
        r"^## Unreleased[^\n]*\n(.*?)(?=^## |\Z)", changelog, re.MULTILINE | re.DOTALL
    )
    return match.group(1).strip() if match else ""


_COORDINATE = re.compile(r"[A-Za-z_]\w*\.\w+(?:\(\w+:\))?")
_TYPE = re.compile(r"\b[A-Z]\w*\b")


def coordinate(description: str) -> str:
    """The schema coordinate a change describes (`Type.field`, `Enum.VALUE`,
    `Type.field(arg:)` or a type name), read from graphql-core's text."""
    if match := _COORDINATE.search(description):
        return match.group(0)
    words = [w for w in _TYPE.findall(description) if w not in _NOT_TYPES]
    return words[0] if words else description


_NOT_TYPES = {"Enum", "Field", "Argument", "An", "A", "Description", "Standard"}


def _mentioned(name: str, notes: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", notes) is not None


def _deprecated(old: GraphQLSchema, kind: BreakingChangeType, where: str) -> bool:
    """Whether the element a breaking change removes was deprecated in ``old``."""
    owner_name, _, rest = where.partition(".")
    owner = old.type_map.get(owner_name)
    if kind is BreakingChangeType.TYPE_REMOVED:
        return _only_deprecated_paths(old, owner_name)
    if kind is BreakingChangeType.VALUE_REMOVED_FROM_ENUM:
        value = getattr(owner, "values", {}).get(rest)
        return value is not None and value.deprecation_reason is not None
    if kind is BreakingChangeType.FIELD_REMOVED:
        field = getattr(owner, "fields", {}).get(rest)
        return field is not None and field.deprecation_reason is not None
    if kind is BreakingChangeType.ARG_REMOVED:
        field_name, _, arg = rest.partition("(")
        field = getattr(owner, "fields", {}).get(field_name)
        if field is None:
            return False
        argument = field.args.get(arg.removesuffix(":)"))
        return field.deprecation_reason is not None or (
            argument is not None and argument.deprecation_reason is not None
        )
    return False


def _only_deprecated_paths(old: GraphQLSchema, name: str) -> bool:
    """Whether every way to reach type ``name`` in ``old`` went through a
    deprecated field, argument or input field: not a root type, not a member
    of a union, not an implementation of an interface (a field of the
    interface's type could answer it, and `... on` it is a client's)."""
    roots = (old.query_type, old.mutation_type, old.subscription_type)
    if any(root is not None and root.name == name for root in roots):
        return False
    removed = old.type_map.get(name)
    if isinstance(removed, GraphQLObjectType | GraphQLInterfaceType) and (
        removed.interfaces
    ):
        return False
    for owner in old.type_map.values():
        if owner.name.startswith("__") or owner.name == name:
            continue
        if isinstance(owner, GraphQLUnionType) and any(
            member.name == name for member in owner.types
        ):
            return False
        if isinstance(
            owner, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            for field in owner.fields.values():
                if (
                    get_named_type(field.type).name == name
                    and field.deprecation_reason is None
                ):
                    return False
                for argument in getattr(field, "args", {}).values():
                    if (
                        get_named_type(argument.type).name == name
                        and argument.deprecation_reason is None
                        and field.deprecation_reason is None
                    ):
                        return False
    return True


@dataclass(frozen=True, slots=True)
class Review:
    """What the gate found between a release and the live SDL."""

    problems: tuple[str, ...]
    allowed: tuple[str, ...]
    dangerous: tuple[str, ...]
    changed: bool


def review(released_sdl: str, live_sdl: str, changelog: str) -> Review:
    """Compare ``live_sdl`` with ``released_sdl`` under the rules above."""
    old = build_schema(released_sdl)
    new = build_schema(live_sdl)
    notes = unreleased_notes(changelog)
    problems: list[str] = []
    allowed: list[str] = []
    for change in find_breaking_changes(old, new):
        where = coordinate(change.description)
        if _deprecated(old, change.type, where):
            allowed.append(change.description)
            if not _mentioned(where, notes):
                problems.append(
                    f"{change.description} (deprecated before, but CHANGELOG.md's "
                    f"Unreleased section does not name `{where}`)"
                )
        else:
            problems.append(
                f"breaking: {change.description} Deprecate it with "
                "@deprecated(reason:) in a release first."
            )
    dangerous = find_dangerous_changes(old, new)
    for risky in dangerous:
        where = _dangerous_coordinate(risky.type, risky.description)
        if not _mentioned(where, notes):
            problems.append(
                f"dangerous: {risky.description} Name `{where}` in CHANGELOG.md's "
                "Unreleased section."
            )
    changed = _normal(released_sdl) != _normal(live_sdl)
    if changed and not notes:
        problems.append(
            "the schema changed since the last release but CHANGELOG.md has no "
            "Unreleased notes"
        )
    return Review(
        problems=tuple(problems),
        allowed=tuple(allowed),
        dangerous=tuple(risky.description for risky in dangerous),
        changed=changed,
    )


def _dangerous_coordinate(kind: DangerousChangeType, description: str) -> str:
    if kind is DangerousChangeType.TYPE_ADDED_TO_UNION:
        # "Member was added to union type Union.": the new member is the news.
        return description.split(" ", 1)[0]
    if kind is DangerousChangeType.IMPLEMENTED_INTERFACE_ADDED:
        # "Interface added to interfaces implemented by Type.": the type is.
        return description.rstrip(".").rsplit(" ", 1)[-1]
    return coordinate(description)


def _normal(sdl: str) -> str:
    return "\n".join(line.rstrip() for line in sdl.strip().splitlines())


def drift(contracts: Iterable[Contract] = CONTRACTS) -> list[str]:
    """The committed files that differ from the live schema."""
    return [
        f"{contract.path.name} differs from the live {contract.name} schema; "
        f"run `{WRITE_COMMAND}`"
        for contract in contracts
        if contract.committed() != contract.live()
    ]


def check(contracts: Sequence[Contract] = CONTRACTS) -> list[str]:
    """Every problem of the drift check and of the gate, for each API."""
    problems = drift(contracts)
    changelog = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.exists() else ""
    for contract in contracts:
        release = contract.last_release()
        if release is None:
            continue
        version, sdl = release
        found = review(sdl, contract.live(), changelog)
        problems.extend(
            f"{contract.name} API against {version}: {problem}"
            for problem in found.problems
        )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["write"]:
        for contract in CONTRACTS:
            contract.path.write_text(contract.live(), encoding="utf-8")
            print(f"wrote {contract.path.name}")
        return 0
    if args == ["check"]:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print("schema contract: committed SDL current, no unannounced change")
        return 1 if problems else 0
    print(f"usage: {WRITE_COMMAND} | python -m schema.contract check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
