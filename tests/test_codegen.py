"""A partner's typed client from `schema.graphql` alone: graphql-codegen writes
TypeScript for a few operations, and tsc --strict compiles code that switches
over every `ErrorKind` exhaustively (scripts/test installs tests/codegen)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from schema.messages import ErrorCode

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(__file__).with_name("codegen") / "node_modules" / ".bin"

PUBLIC_OPERATIONS = """
mutation Login($authId: String!, $password: String!) {
  login(input: {authId: $authId, password: $password}) {
    __typename
    ... on LoginSuccess { token idleTimeoutSeconds user { authId passwordExpiresAt } }
    ... on Error { code kind message remedy }
    ... on AccountLockedError { retryAfterSeconds }
    ... on TooManyRequestsError { retryAfterSeconds }
  }
}
query Me { me { __typename ... on User { authId dateOfBirth } ... on Error { kind } } }
"""
ADMIN_OPERATIONS = """
mutation StaffLogin($i: StaffLoginInput!) {
  staffLogin(input: $i) {
    __typename
    ... on StaffLoginSuccess { token staff { loginId role } }
    ... on Error { code kind }
  }
}
"""


def _use(kinds: list[str]) -> str:
    cases = "\n".join(f"    case '{kind}': return '{kind}';" for kind in kinds)
    return f"""
import type {{ LoginMutation, ErrorKind }} from './public';
import type {{ StaffLoginMutation }} from './admin';

export function name(kind: ErrorKind): string {{
  switch (kind) {{
{cases}
    default: {{ const unhandled: never = kind; return unhandled; }}
  }}
}}

export function wait(r: LoginMutation['login']): number | null {{
  switch (r.__typename) {{
    case 'AccountLockedError':
    case 'TooManyRequestsError': return r.retryAfterSeconds;
    default: return null;
  }}
}}

export function staffKind(r: StaffLoginMutation['staffLogin']): ErrorKind | null {{
  return 'kind' in r ? r.kind : null;
}}
"""


def _run(*command: str, cwd: Path) -> None:
    done = subprocess.run(  # noqa: S603
        command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def tools() -> Path:
    if not (TOOLS / "graphql-codegen").exists():
        pytest.fail("tests/codegen is not installed: run scripts/test (npm ci)")
    return TOOLS


def _generate(tools: Path, work: Path, kinds: list[str]) -> None:
    # The generator finds its plugins in the working folder's node_modules.
    (work / "node_modules").symlink_to(tools.parent)
    shutil.copy(ROOT / "schema.graphql", work / "schema.graphql")
    shutil.copy(ROOT / "admin-schema.graphql", work / "admin-schema.graphql")
    (work / "public.graphql").write_text(PUBLIC_OPERATIONS)
    (work / "admin.graphql").write_text(ADMIN_OPERATIONS)
    scalars = "        scalars: {DateTime: string, Date: string}\n"
    (work / "codegen.yml").write_text(
        "generates:\n"
        "  public.ts:\n"
        "    schema: schema.graphql\n"
        "    documents: public.graphql\n"
        "    plugins: [typescript-operations]\n"
        f"    config:\n{scalars}"
        "  admin.ts:\n"
        "    schema: admin-schema.graphql\n"
        "    documents: admin.graphql\n"
        "    plugins: [typescript-operations]\n"
        f"    config:\n{scalars}"
    )
    (work / "use.ts").write_text(_use(kinds))
    _run(str(tools / "graphql-codegen"), "--config", "codegen.yml", cwd=work)


def test_a_typed_client_generated_from_the_sdl_compiles_strictly(
    tools: Path, tmp_path: Path
) -> None:
    _generate(tools, tmp_path, [code.name for code in ErrorCode])
    generated = (tmp_path / "public.ts").read_text()
    assert "retryAfterSeconds: number" in generated
    _run(
        str(tools / "tsc"),
        "--noEmit",
        "--strict",
        "--target",
        "es2020",
        "use.ts",
        cwd=tmp_path,
    )


def test_the_strict_compile_catches_a_missing_kind(tools: Path, tmp_path: Path) -> None:
    """The check above can fail: one ErrorKind left out of the switch."""
    _generate(tools, tmp_path, [code.name for code in ErrorCode][1:])
    done = subprocess.run(  # noqa: S603
        [str(tools / "tsc"), "--noEmit", "--strict", "--target", "es2020", "use.ts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0
    assert "not assignable to type 'never'" in done.stdout
