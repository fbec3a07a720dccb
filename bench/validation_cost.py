"""CPU cost of the work a request pays before execution, for hostile documents.

Every document goes through the path of a real request up to execution:
`schema.pipeline.checked_parse` (parse within MAX_SOURCE_CHARS and MAX_TOKENS,
then the linear bounds of schema.document_limits), then, if nothing refused it,
`schema.pipeline.validate_document` (as the service validates: at most
MAX_VALIDATION_ERRORS errors, no suggestions) with graphql-core's specified
rules, Strawberry's two and schema.rules.VALIDATION_RULES. The CPU time of
that path (time.thread_time) is measured --repeat times per document.

Documents come in families, each built to cost as much CPU as possible for its
size: the same field repeated, the same field with conflicting arguments or
aliases, deep and wide nesting, fragments spreading fragments, fragment cycles,
inline fragments on unions, variables, directives, operations, long strings,
padding, big literals, unknown names, late syntax errors. For every family the
largest document the service accepts (it passes the 64 KiB body cap and
checked_parse, so validation runs) is found by bisection, and the next larger
one is measured too, to show that the refusal is cheap. The full introspection
query, a GraphiQL one (every option on) and portal documents are the baseline.

A document that runs longer than --cap-ms of CPU is stopped (SIGPROF) and shown
as at least the cap. The target is that no accepted document costs more than
--target-ms (20 ms).

    .venv/bin/python bench/validation_cost.py [--repeat 5] [--cap-ms 2000]
        [--max-tokens 4000] [--limit selections=150 --limit variables=40 ...]

--max-tokens and --limit replace the configured values (parse with that
max_tokens, then document_problem with those DocumentLimits) to try others.
"""

import argparse
import dataclasses
import gc
import json
import os
import platform
import signal
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Lexer,
    OperationDefinitionNode,
    Source,
    TokenKind,
    get_introspection_query,
    parse,
    visit,
)
from graphql.execution.values import get_variable_values
from graphql.language import Visitor

from schema.document_limits import (
    LIMITS,
    MAX_LINE_BREAKS,
    MAX_SOURCE_CHARS,
    MAX_TOKENS,
    DocumentLimits,
    document_problem,
)
from schema.pipeline import checked_parse, validate_document
from schema.root import schema
from schema.rules import MAX_ALIASES, MAX_DEPTH

BODY_BYTES = 64 * 1024  # app.settings.Settings.max_body_bytes
LARGEST_N = 1 << 17
Build = Callable[[int], tuple[str, str | None]]


class Overrun(BaseException):
    """Raised from SIGPROF when one document runs past --cap-ms (a BaseException,
    so that no `except Exception` in the libraries swallows it)."""


@dataclass(frozen=True, slots=True)
class Doc:
    family: str
    variant: str
    query: str
    operation_name: str | None = None
    # Variables to coerce after validation (the rest of the work before
    # execution: each coercion error is located in the document too).
    variables: dict[str, object] | None = None


@dataclass(slots=True)
class Measured:
    doc: Doc
    accepted: bool  # reached validation
    outcome: str
    samples: list[float]  # ms
    overrun: bool = False

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass(frozen=True, slots=True)
class Gate:
    """The pre-validation checks: the service's checked_parse, or the same with
    other limits."""

    max_tokens: int | None = None
    limits: DocumentLimits | None = None

    def check(
        self, query: str, operation_name: str | None
    ) -> tuple[DocumentNode, GraphQLError | None]:
        if self.max_tokens is None and self.limits is None:
            return checked_parse(query, operation_name)
        if query.count("\n") + query.count("\r") > MAX_LINE_BREAKS:
            raise GraphQLError("too many line breaks")
        document = parse(
            query,
            max_tokens=self.max_tokens or MAX_TOKENS,
            max_source_length=MAX_SOURCE_CHARS,
        )
        return document, document_problem(
            document, operation_name, self.limits or LIMITS
        )

    def accepts(self, query: str, operation_name: str | None) -> bool:
        if body_bytes(query, operation_name) > BODY_BYTES:
            return False
        try:
            _, problem = self.check(query, operation_name)
        except GraphQLError:
            return False
        return problem is None


def body_bytes(query: str, operation_name: str | None, variables: object = None) -> int:
    body = {"query": query, "operationName": operation_name, "variables": variables}
    return len(json.dumps(body, ensure_ascii=False).encode())


def token_count(query: str) -> int:
    """Lexical tokens including comments (as max_tokens counts them), up to a
    syntax error."""
    lexer = Lexer(Source(query))
    start = lexer.token
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            pass
    except GraphQLError:
        pass
    count = 0
    token = start.next
    while token is not None and token.kind is not TokenKind.EOF:
        count += 1
        token = token.next
    return count


def selection_count(query: str) -> int | None:
    try:
        document = parse(query)
    except GraphQLError:
        return None
    counter = _Selections()
    visit(document, counter)
    return counter.count


class _Selections(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter(self, node: object, *_args: object) -> None:
        if isinstance(node, FieldNode | FragmentSpreadNode | InlineFragmentNode):
            self.count += 1


# Families: n → (query, operation name); a larger n makes a larger document.


def join(part: Callable[[int], str], n: int, sep: str = " ") -> str:
    return sep.join(part(i) for i in range(n))


def same_field(n: int) -> tuple[str, str | None]:
    return "{ " + join(lambda _: "prefectures { code }", n) + " }", None


def same_leaf(n: int) -> tuple[str, str | None]:
    return "{ " + join(lambda _: "__typename", n) + " }", None


def conflicting_args(n: int) -> tuple[str, str | None]:
    field = 'municipalities(query: "a{}") {{ __typename }}'
    return "{ " + join(field.format, n) + " }", None


def same_args_deep(n: int) -> tuple[str, str | None]:
    field = (
        'municipalities(query: "a", first: 20) { ... on MunicipalityConnection '
        "{ edges { node { code prefecture { code } } } } }"
    )
    return "{ " + join(lambda _: field, n) + " }", None


def alias_conflicts(n: int) -> tuple[str, str | None]:
    fields = ("x: prefectures { code }", "x: passwordPolicy { minLength }")
    return "{ " + join(lambda i: fields[i % 2], n) + " }", None


def many_args(copies: int) -> Build:
    def build(n: int) -> tuple[str, str | None]:
        args = join(lambda i: f"a{i}: {i}", n, ", ")
        fields = join(lambda _: f"prefectures({args}) {{ code }}", copies)
        return "{ " + fields + " }", None

    return build


def object_arg(copies: int) -> Build:
    def build(n: int) -> tuple[str, str | None]:
        value = "{" + join(lambda i: f"k{i}: [{i}]", n, ", ") + "}"
        field = f"municipalities(first: {value}) {{ __typename }}"
        return "{ " + join(lambda _: field, copies) + " }", None

    return build


def nested_fields(n: int) -> tuple[str, str | None]:
    return "{ " + "f { " * n + "g" + " }" * n + " }", None


def nested_inline(n: int) -> tuple[str, str | None]:
    inner = "prefectures { code }"
    return "{ " + "... { " * n + inner + " }" * n + " }", None


def _tree(branching: int, n: int) -> str:
    """n fields named x, each with up to `branching` children (breadth first)."""
    children: list[list[int]] = [[] for _ in range(n)]
    for node in range(1, n):
        children[(node - 1) // branching].append(node)

    def text(node: int) -> str:
        if not children[node]:
            return "x"
        return "x { " + " ".join(text(child) for child in children[node]) + " }"

    return "{ " + text(0) + " }"


def same_name_tree(branching: int) -> Build:
    return lambda n: (_tree(branching, n), None)


def fragment_fanout(chain: int) -> Build:
    """Each of `chain` fragments spreads the next one n times: n**chain fields
    once expanded."""

    def build(n: int) -> tuple[str, str | None]:
        fragments = [
            f"fragment F{i} on Query {{ " + f"...F{i + 1} " * n + "}"
            for i in range(chain)
        ]
        fragments.append(f"fragment F{chain} on Query {{ prefectures {{ code }} }}")
        return "{ ...F0 } " + " ".join(fragments), None

    return build


def fragment_chain(fanout: int) -> Build:
    return lambda n: fragment_fanout(n)(fanout)


def fragment_cycle(n: int) -> tuple[str, str | None]:
    """n fragments, each spreading all the others."""
    fragments = [
        f"fragment F{i} on Query {{ "
        + " ".join(f"...F{j}" for j in range(n) if j != i)
        + " __typename }"
        for i in range(n)
    ]
    return "{ ...F0 } " + " ".join(fragments), None


def same_spread(n: int) -> tuple[str, str | None]:
    spreads = join(lambda _: "...F", n)
    return "{ " + spreads + " } fragment F on Query { prefectures { code } }", None


def fragment_pairs(fragments: int) -> Build:
    """The operation spreads every fragment; each holds n fields conflicting with
    the other fragments' fields."""

    def build(n: int) -> tuple[str, str | None]:
        spreads = join(lambda i: f"...F{i}", fragments)
        bodies = " ".join(
            f"fragment F{i} on Query {{ "
            + " ".join(
                f'x: municipalities(query: "{i}.{j}") {{ __typename }}'
                for j in range(n)
            )
            + " }"
            for i in range(fragments)
        )
        return "{ " + spreads + " } " + bodies, None

    return build


def nested_spreads(fragments: int) -> Build:
    """n same-name fields, each spreading one of the fragments, which differ."""

    def build(n: int) -> tuple[str, str | None]:
        fields = join(lambda i: f"municipalities {{ ...M{i % fragments} }}", n)
        bodies = " ".join(
            f"fragment M{i} on MunicipalitiesResult {{ ... on MunicipalityConnection "
            f"{{ edges {{ c: {('cursor', 'node { code }')[i % 2]} }} }} }}"
            for i in range(fragments)
        )
        return "{ " + fields + " } " + bodies, None

    return build


def union_inline(n: int) -> tuple[str, str | None]:
    parts = ("... on User { x: authId }", "... on Error { x: code }")
    return "{ me { " + join(lambda i: parts[i % 2], n) + " } }", None


def union_members(n: int) -> tuple[str, str | None]:
    members = (
        "LoginSuccess { token }",
        "RequiredFieldError { fields }",
        "InvalidCredentialsError { code }",
        "AccountLockedError { code: message }",
        "PasswordExpiredError { changeTicket }",
        "Error { code }",
    )
    fragments = join(lambda i: "... on " + members[i % len(members)], n)
    return (
        'mutation { login(input: {authId: "a", password: "b"}) { ' + fragments + " } }",
        None,
    )


def variables(n: int) -> tuple[str, str | None]:
    declared = join(lambda i: f"$v{i}: String", n, ", ")
    fields = join(lambda i: f"municipalities(query: $v{i}) {{ __typename }}", n)
    return f"query Q({declared}) {{ {fields} }}", "Q"


def variable_uses(n: int) -> tuple[str, str | None]:
    fields = join(lambda _: "municipalities(query: $v) { __typename }", n)
    return f"query Q($v: String) {{ {fields} }}", "Q"


def variable_directives(n: int) -> tuple[str, str | None]:
    directives = join(lambda i: f"@d{i}", n)
    return f"query Q($v: Int {directives}) {{ __typename }}", "Q"


def directives(n: int) -> tuple[str, str | None]:
    field = "prefectures @skip(if: $b) @include(if: true) { code }"
    return "query Q($b: Boolean!) { " + join(lambda _: field, n) + " }", "Q"


def directive_args(n: int) -> tuple[str, str | None]:
    args = join(lambda i: f"a{i}: {i}", n, ", ")
    return f"{{ __typename @skip(if: false, {args}) }}", None


def operations(count: int) -> Build:
    def build(n: int) -> tuple[str, str | None]:
        body = "{ " + join(lambda _: "prefectures { code }", n) + " }"
        return join(lambda i: f"query Q{i} {body}", count), "Q0"

    return build


def list_literal(n: int) -> tuple[str, str | None]:
    items = join(str, n, ", ")
    return f"query Q($v: [Int!] = [{items}]) {{ __typename }}", "Q"


def nested_list(n: int) -> tuple[str, str | None]:
    return (
        "{ municipalities(first: " + "[" * n + "1" + "]" * n + ") { __typename } }",
        None,
    )


def unknown_object_fields(n: int) -> tuple[str, str | None]:
    fields = join(lambda i: f"passwor{i}: {i}", n, ", ")
    return (
        f'mutation {{ login(input: {{authId: "a", password: "b", {fields}}}) '
        "{ __typename } }",
        None,
    )


def unknown_types(n: int) -> tuple[str, str | None]:
    names = (
        "MunicipalityConnectiom",
        "UpdateUserInfoResulx",
        "RegisterPasswordInpu",
        "PasswordPolicyErorr",
    )
    declared = join(lambda i: f"$v{i}: {names[i % len(names)]}", n, ", ")
    return f"query Q({declared}) {{ __typename }}", "Q"


def unknown_fields(n: int) -> tuple[str, str | None]:
    names = ("municipalitie", "prefecturs", "passwordPolicyy", "errorCatalo")
    return "{ " + join(lambda i: names[i % len(names)], n) + " }", None


def unknown_conditions(n: int) -> tuple[str, str | None]:
    names = ("MunicipalityConection", "UpdateUserInfoSucces", "ChangePasswordInpt")
    part = "... on {} {{ __typename }}"
    return "{ " + join(lambda i: part.format(names[i % len(names)]), n) + " }", None


def long_string(n: int) -> tuple[str, str | None]:
    return f'{{ municipalities(query: "{"a" * n}") {{ __typename }} }}', None


def block_string(n: int) -> tuple[str, str | None]:
    lines = "\n    a" * n
    return f'{{ municipalities(query: """{lines}\n""") {{ __typename }} }}', None


def escapes(n: int) -> tuple[str, str | None]:
    escaped = "\\u00e9" * n
    return f'{{ municipalities(query: "{escaped}") {{ __typename }} }}', None


def comment(n: int) -> tuple[str, str | None]:
    return "{ __typename } #" + "a" * n, None


def comments(n: int) -> tuple[str, str | None]:
    return "{ __typename }" + "\n#" * n, None


def commas(n: int) -> tuple[str, str | None]:
    return "{ __typename " + "," * n + " }", None


def padded_errors(n: int) -> tuple[str, str | None]:
    # Each error's line is found by walking every line break before it.
    return "\n" * n + "{ " + join(lambda i: f"unknown{i}", 25) + " }", None


def padded_unknown_args(n: int) -> tuple[str, str | None]:
    return "\r" * n + "{ " + join(lambda _: "__typename(a: 1)", 98) + " }", None


def families(limits: DocumentLimits) -> list[tuple[str, Build]]:
    chain = limits.definitions - 2  # fragments F0 … F{chain}, and the operation
    pairs = limits.definitions - 1
    return [
        ("same-field", same_field),
        ("same-leaf", same_leaf),
        ("conflicting-args", conflicting_args),
        ("same-args-deep", same_args_deep),
        ("alias-conflicts", alias_conflicts),
        ("many-args x40", many_args(40)),
        (
            f"many-args x{limits.same_response_name}",
            many_args(limits.same_response_name),
        ),
        ("object-arg x40", object_arg(40)),
        (
            f"object-arg x{limits.same_response_name}",
            object_arg(limits.same_response_name),
        ),
        ("nested-fields", nested_fields),
        ("nested-inline", nested_inline),
        ("same-name-tree b2", same_name_tree(2)),
        ("same-name-tree b4", same_name_tree(4)),
        (f"fragment-fanout c{chain}", fragment_fanout(chain)),
        ("fragment-fanout c8", fragment_fanout(8)),
        ("fragment-chain f2", fragment_chain(2)),
        ("fragment-chain f3", fragment_chain(3)),
        ("fragment-cycle", fragment_cycle),
        ("same-spread", same_spread),
        (f"fragment-pairs f{pairs}", fragment_pairs(pairs)),
        (f"nested-spreads f{pairs}", nested_spreads(pairs)),
        ("union-inline", union_inline),
        ("union-members", union_members),
        ("variables", variables),
        ("variable-uses", variable_uses),
        ("variable-directives", variable_directives),
        ("directives", directives),
        ("directive-args", directive_args),
        (f"operations x{limits.definitions}", operations(limits.definitions)),
        ("list-literal", list_literal),
        ("nested-list", nested_list),
        ("unknown-object-fields", unknown_object_fields),
        ("unknown-types", unknown_types),
        ("unknown-fields", unknown_fields),
        ("unknown-conditions", unknown_conditions),
        ("long-string", long_string),
        ("block-string", block_string),
        ("escapes", escapes),
        ("comment", comment),
        ("comments", comments),
        ("commas", commas),
        ("padded-errors", padded_errors),
        ("padded-unknown-args", padded_unknown_args),
    ]


PORTAL = {
    "portal-me": (
        "query Me { me { __typename ... on User { authId name email phone "
        "dateOfBirth nationality language address { municipalityCode "
        "prefectureName municipalityName street } userCategory lastLoginAt "
        "previousLoginAt passwordExpiresAt } ... on PasswordExpiredError "
        "{ changeTicket } ... on Error { code message remedy } } }"
    ),
    "portal-search": (
        "query($q: String) { municipalities(query: $q, first: 20) { __typename "
        "... on MunicipalityConnection { edges { cursor node { code name kana romaji "
        "prefecture { code name } } } pageInfo { hasNextPage endCursor } } "
        "... on Error { code } } }"
    ),
    "portal-update": (
        "mutation($i: UpdateUserInfoInput!) { updateUserInfo(input: $i) { "
        "__typename ... on UpdateUserInfoSuccess { mailSent user { authId email "
        "phone address { municipalityCode prefectureName municipalityName street } } "
        "} ... on AddressIncompleteError { field fieldErrors { code field } } "
        "... on GaijiError { characters } ... on FieldError { field } "
        "... on Error { code message remedy } } }"
    ),
}


def largest(gate: Gate, build: Build) -> int | None:
    """The largest n whose document the service accepts (assumed monotonic)."""
    if not gate.accepts(*build(1)):
        return None
    low, high = 1, 2
    while high <= LARGEST_N and gate.accepts(*build(high)):
        low, high = high, high * 2
    if high > LARGEST_N:
        return low
    while high - low > 1:
        middle = (low + high) // 2
        if gate.accepts(*build(middle)):
            low = middle
        else:
            high = middle
    return low


def documents(gate: Gate, limits: DocumentLimits) -> list[Doc]:
    introspection = get_introspection_query(descriptions=True)
    graphiql = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    docs = [
        Doc("introspection", "graphql-core", introspection, "IntrospectionQuery"),
        Doc("introspection", "GraphiQL", graphiql, "IntrospectionQuery"),
        *(Doc(name, "baseline", query) for name, query in PORTAL.items()),
    ]
    for family, build in families(limits):
        n = largest(gate, build)
        if n is None:
            docs.append(Doc(family, "n=1", *build(1)))
            continue
        query, operation_name = build(n)
        docs.append(Doc(family, f"max n={n}", query, operation_name))
        if n < LARGEST_N:
            docs.append(Doc(family, f"over n={n + 1}", *build(n + 1)))
        if family in ("same-field", "list-literal", "many-args x40"):
            # A syntax error at the very end: everything before it is parsed.
            docs.append(Doc(family, f"late error n={n}", query[:-1], operation_name))
    # Coercion errors (60 unknown input fields) after the most line breaks.
    login = "mutation M($i: LoginInput!) { login(input: $i) { __typename } }"
    unknown = {"i": {f"unknown{k}": "x" * 400 for k in range(60)}}
    for breaks in (MAX_LINE_BREAKS, MAX_LINE_BREAKS + 1):
        variant = "max" if breaks == MAX_LINE_BREAKS else "over"
        padded = "\n" * breaks + login
        docs.append(Doc("coercion", f"{variant} n={breaks}", padded, "M", unknown))
    return docs


def _overrun(_signum: int, _frame: FrameType | None) -> None:
    raise Overrun


def run_once(gate: Gate, doc: Doc, cap_ms: float) -> tuple[float, bool, str, bool]:
    """(ms, accepted, outcome, overrun) of the path up to execution."""
    gc.collect()
    signal.setitimer(signal.ITIMER_PROF, cap_ms / 1000)
    start = time.thread_time()
    accepted, outcome, overrun = False, "", False
    try:
        document, problem = gate.check(doc.query, doc.operation_name)
        if problem is not None:
            outcome = f"refused: {problem.message[:60]}"
        else:
            accepted = True
            errors = validate_document(schema.graphql_schema, document)
            if not errors and doc.variables is not None:
                # As execution coerces them (graphql-core keeps up to 50 errors).
                [operation] = [
                    d
                    for d in document.definitions
                    if isinstance(d, OperationDefinitionNode)
                ]
                coerced = get_variable_values(
                    schema.graphql_schema,
                    operation.variable_definitions or (),
                    doc.variables,
                    max_errors=50,
                )
                errors = coerced if isinstance(coerced, list) else []
            outcome = (
                f"invalid ({len(errors)}): {errors[0].message[:60]}"
                if errors
                else "valid"
            )
    except GraphQLError as error:
        outcome = f"refused: {error.message[:60]}"
    except Overrun:
        accepted, overrun, outcome = True, True, f"stopped at --cap-ms {cap_ms:g}"
    finally:
        elapsed = (time.thread_time() - start) * 1000
        signal.setitimer(signal.ITIMER_PROF, 0)
    return elapsed, accepted, " ".join(outcome.split()), overrun


def measure(gate: Gate, doc: Doc, repeat: int, cap_ms: float) -> Measured:
    if body_bytes(doc.query, doc.operation_name, doc.variables) > BODY_BYTES:
        return Measured(doc, False, f"refused: body over {BODY_BYTES} bytes", [0.0])
    samples: list[float] = []
    for _ in range(repeat):
        elapsed, accepted, outcome, overrun = run_once(gate, doc, cap_ms)
        samples.append(elapsed)
        if overrun:
            return Measured(doc, accepted, outcome, samples, overrun=True)
    return Measured(doc, accepted, outcome, samples)


def main(repeat: int, cap_ms: float, target_ms: float, gate: Gate) -> int:
    limits = gate.limits or LIMITS
    max_tokens = gate.max_tokens or MAX_TOKENS
    signal.signal(signal.SIGPROF, _overrun)
    print(
        f"MAX_TOKENS={max_tokens} {limits} MAX_ALIASES={MAX_ALIASES} "
        f"MAX_DEPTH={MAX_DEPTH} body<={BODY_BYTES} B, repeat={repeat}"
    )
    docs = documents(gate, limits)
    measure(gate, docs[0], 3, cap_ms)  # warm-up
    results = [measure(gate, doc, repeat, cap_ms) for doc in docs]
    results.sort(key=lambda m: (m.accepted, m.median), reverse=True)
    print(
        f"{'median':>9} {'max':>9} {'tokens':>6} {'sel':>4} {'bytes':>6}  "
        f"{'family':<23} {'document':<17} outcome"
    )
    for m in results:
        doc = m.doc
        counted = selection_count(doc.query) if m.accepted else None
        selections = "-" if counted is None else str(counted)
        bound = ">=" if m.overrun else ""
        print(
            f"{bound + format(m.median, '.2f'):>9} {max(m.samples):9.2f} "
            f"{token_count(doc.query):6d} {selections:>4} "
            f"{body_bytes(doc.query, doc.operation_name, doc.variables):6d}  "
            f"{doc.family:<23} {doc.variant:<17} {m.outcome}"
        )
    accepted = [m for m in results if m.accepted]
    worst = max(accepted, key=lambda m: m.median)
    met = "met" if not worst.overrun and worst.median <= target_ms else "NOT met"
    print(
        f"worst accepted: {worst.doc.family} ({worst.doc.variant}) "
        f"{'>=' if worst.overrun else ''}{worst.median:.2f} ms median, "
        f"{max(worst.samples):.2f} ms max; target {target_ms:g} ms {met}; "
        f"Python {platform.python_version()} on {platform.platform()}, "
        f"{platform.processor() or platform.machine()}, cpu_count={os.cpu_count()}"
    )
    return 0 if met == "met" else 1


def _limits(pairs: list[str]) -> DocumentLimits | None:
    if not pairs:
        return None
    names = {field.name for field in dataclasses.fields(DocumentLimits)}
    changes: dict[str, int] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in names or not value.isdigit():
            sys.exit(f"--limit NAME=INT with NAME one of {sorted(names)}: {pair!r}")
        changes[name] = int(value)
    return dataclasses.replace(LIMITS, **changes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cap-ms", type=float, default=2000.0)
    parser.add_argument("--target-ms", type=float, default=20.0)
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--limit", action="append", default=[], metavar="NAME=INT")
    args = parser.parse_args()
    gate = Gate(args.max_tokens, _limits(args.limit))
    sys.exit(main(args.repeat, args.cap_ms, args.target_ms, gate))
