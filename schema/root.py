"""The root Schema: every operation, wired to its resolver."""

import functools
import logging
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    validate,
)
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from resolvers import account, auth, catalog, lookup, menu, password, registration
from resolvers.context import Context, Info
from schema.account import (
    MeResult,
    RevertEmailChangeInput,
    RevertEmailChangeResult,
    UpdateUserInfoInput,
    UpdateUserInfoResult,
)
from schema.auth import (
    LoginInput,
    LoginResult,
    LogoutResult,
    ReauthenticateInput,
    ReauthenticateResult,
)
from schema.catalog import ErrorCatalogEntry
from schema.document_limits import document_problem, parse_bounded
from schema.errors import FieldError, RequiredFieldError, StreetRequiredError
from schema.lookup import (
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    MunicipalitiesResult,
    MunicipalityResult,
    PostalCodeResult,
    Prefecture,
)
from schema.masking import IncidentMasking, is_unexpected
from schema.menu import MenuResult, SearchApplicationsResult
from schema.password import (
    ChangePasswordInput,
    ChangePasswordResult,
    PasswordPolicy,
    RequestPasswordResetInput,
    RequestPasswordResetResult,
    ResetPasswordInput,
    ResetPasswordResult,
)
from schema.registration import (
    RegisterPasswordInput,
    RegisterPasswordResult,
    RegisterUserInput,
    RegisterUserResult,
)
from schema.rules import OncePerDocument
from schema.types import Language

logger = logging.getLogger("ras_identity.graphql")

MAX_DEPTH = 12
MAX_ALIASES = 20
# Validation stops at this many errors, and says no "Did you mean …?": each
# suggestion compares a name with every name of the schema, and a hundred
# errors cost more than a whole valid document.
MAX_VALIDATION_ERRORS = 20
# The rule classes are made once: the validation cache is keyed by the rules, and
# MaxAliasesLimiter/QueryDepthLimiter make a new class per request, so with them
# every request missed the cache and was validated again (40% of the CPU time
# of an address search).
VALIDATION_RULES: list[type[ASTValidationRule]] = [
    OncePerDocument,
    aliases_rule(MAX_ALIASES),
    depth_rule(MAX_DEPTH, None),
]


@strawberry.type(description="Read operations.")
class Query:
    @strawberry.field(
        description="利用者情報表示: the logged-in user's information (Bearer token)."
    )
    async def me(self, info: Info) -> MeResult:
        return await account.me(info)

    @strawberry.field(
        description="メニュー: the four menu items with their availability for the "
        "user's category (Bearer token)."
    )
    async def menu(self, info: Info) -> MenuResult:
        return await menu.menu(info)

    @strawberry.field(
        description="申請情報検索 (Bearer token). Unavailable for this service's user "
        "category: answers WZBAM250E."
    )
    async def search_applications(self, info: Info) -> SearchApplicationsResult:
        return await menu.search_applications(info)

    @strawberry.field(
        description="別紙「エラーメッセージ一覧」: every code with message and remedy, "
        "the manual's 25 first, then this service's RASX extensions. No login needed."
    )
    def error_catalog(
        self,
        info: Info,
        lang: Annotated[
            Language | None,
            strawberry.argument(
                description="Language of the texts; defaults to the request's "
                "language (`Accept-Language`, else Japanese)."
            ),
        ] = None,
    ) -> list[ErrorCatalogEntry]:
        return catalog.error_catalog(info, lang)

    @strawberry.field(
        description="都道府県: the 47 prefectures in code order, from Japan Post's "
        "data. No login needed."
    )
    async def prefectures(self) -> list[Prefecture]:
        return await lookup.prefectures()

    @strawberry.field(
        description="住居地の検索: municipalities (市区町村, designated-city wards, "
        "Tokyo special wards) in code order, optionally in one prefecture and matching "
        "a search text; pages of `first` after the cursor `after`. No login "
        "needed."
    )
    async def municipalities(
        self,
        info: Info,
        prefecture_code: Annotated[
            str | None,
            strawberry.argument(
                description="Only this prefecture: its 2-digit code, 01 to 47."
            ),
        ] = None,
        query: Annotated[
            str | None,
            strawberry.argument(
                description="Search text of at most 64 characters: part of the "
                "name in kanji (新宿), kana in hiragana or katakana, full- or "
                "half-width (しんじゅく, ｼﾝｼﾞｭｸ), romaji in Hepburn or Kunrei "
                "spelling (shinjuku, sinzyuku, chuo), or the first digits of the "
                "code (131). Also matches from the start of prefecture + "
                "municipality (東京都新宿)."
            ),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=f"Page size, 1 to {PAGE_SIZE_MAX}; default "
                f"{PAGE_SIZE_DEFAULT}."
            ),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Continue after this cursor (`pageInfo.endCursor` of "
                "the previous page)."
            ),
        ] = None,
    ) -> MunicipalitiesResult:
        return await lookup.municipalities(
            info,
            prefecture_code=prefecture_code,
            query=query,
            first=first,
            after=after,
        )

    @strawberry.field(
        description="One municipality by its 全国地方公共団体コード. No login needed."
    )
    async def municipality(
        self,
        info: Info,
        code: Annotated[
            str,
            strawberry.argument(
                description="6 digits with the check digit (131041), or the "
                "5-digit JIS X 0402 form (13104); full-width digits are accepted."
            ),
        ],
    ) -> MunicipalityResult:
        return await lookup.municipality(info, code)

    @strawberry.field(
        description="郵便番号検索: the prefecture, municipality and town(s) of a "
        "postal code, in kanji, kana and romaji, to pre-fill an address. No "
        "login needed."
    )
    async def postal_code(
        self,
        info: Info,
        code: Annotated[
            str,
            strawberry.argument(
                description="7 digits (1600023), optionally with a hyphen after "
                "the third (160-0023), 〒 or full-width digits."
            ),
        ],
    ) -> PostalCodeResult:
        return await lookup.postal_code(info, code)

    @strawberry.field(
        description="The password policy in force, each rule in Japanese and "
        "English, for the password forms. No login needed."
    )
    def password_policy(self, info: Info) -> PasswordPolicy:
        return password.password_policy(info)


@strawberry.type(description="Operations that change state.")
class Mutation:
    @strawberry.mutation(
        description="ログイン: 認証ID and password for a session token. Five "
        "consecutive failures for one auth ID lock it for 24 hours (WZBAM153E)."
    )
    async def login(
        self,
        info: Info,
        input: Annotated[
            LoginInput, strawberry.argument(description="The login form.")
        ],
    ) -> LoginResult:
        return await auth.login(info, input)

    @strawberry.mutation(
        description="ログアウト: ends the session of the Bearer token."
    )
    async def logout(self, info: Info) -> LogoutResult:
        return await auth.logout(info)

    @strawberry.mutation(
        description="Enter the password again on this session (Bearer token) "
        "before a sensitive change: changing the email address needs the "
        "password checked within the last RAS_STEP_UP_SECONDS (10 minutes by "
        "default; logging in counts). A wrong password counts toward the lockout "
        "like a failed login."
    )
    async def reauthenticate(
        self,
        info: Info,
        input: Annotated[
            ReauthenticateInput,
            strawberry.argument(description="The current password."),
        ],
    ) -> ReauthenticateResult:
        return await auth.reauthenticate(info, input)

    @strawberry.mutation(
        description="利用者登録: create an account of the category （窓口申請）在留資格"
        "認定証明書電子交付希望者 and mail its 認証ID with a password-setup link "
        "(24 hours, single use). The answer does not tell whether the address "
        "already had an account; its owner gets a mail instead. No login needed."
    )
    async def register_user(
        self,
        info: Info,
        input: Annotated[
            RegisterUserInput,
            strawberry.argument(description="The registration form."),
        ],
    ) -> RegisterUserResult:
        return await registration.register_user(info, input)

    @strawberry.mutation(
        description="パスワード登録: set the first password with the token of the "
        "registration mail's link; then the user can log in. No login needed."
    )
    async def register_password(
        self,
        info: Info,
        input: Annotated[
            RegisterPasswordInput,
            strawberry.argument(description="Token and the new password twice."),
        ],
    ) -> RegisterPasswordResult:
        return await registration.register_password(info, input)

    @strawberry.mutation(
        description="利用者情報変更: change the address, phone and/or email of the "
        "logged-in user (Bearer token). An email change mails the new and the old "
        "address (with a link that undoes it) and needs the password checked on "
        "the session recently (login or `reauthenticate`); other changes send no "
        "mail."
    )
    async def update_user_info(
        self,
        info: Info,
        input: Annotated[
            UpdateUserInfoInput,
            strawberry.argument(description="The items to change."),
        ],
    ) -> UpdateUserInfoResult:
        return await account.update_user_info(info, input)

    @strawberry.mutation(
        description="Undo an email change with the link in the notice mailed to "
        "the old address (for when it was not the user): the old address is back, "
        "every session ends, the password is removed and a reset link is mailed "
        "to the restored address. No login needed."
    )
    async def revert_email_change(
        self,
        info: Info,
        input: Annotated[
            RevertEmailChangeInput,
            strawberry.argument(description="The token of the notice's link."),
        ],
    ) -> RevertEmailChangeResult:
        return await account.revert_email_change(info, input)

    @strawberry.mutation(
        description="パスワード変更: with a session, or with the change ticket of "
        "WZBAM158E. A wrong current password counts toward the lockout. Success "
        "ends every other session, gives this one a new token and mails a "
        "completion notice."
    )
    async def change_password(
        self,
        info: Info,
        input: Annotated[
            ChangePasswordInput,
            strawberry.argument(description="Current password and new one twice."),
        ],
    ) -> ChangePasswordResult:
        return await password.change_password(info, input)

    @strawberry.mutation(
        description="パスワード再設定の申請 (manual 2.5): mail a reset link (1 hour, "
        "single use; a newer request voids older links) when auth ID and email "
        "belong to one active account. No login needed."
    )
    async def request_password_reset(
        self,
        info: Info,
        input: Annotated[
            RequestPasswordResetInput,
            strawberry.argument(description="Auth ID and registered address."),
        ],
    ) -> RequestPasswordResetResult:
        return await password.request_password_reset(info, input)

    @strawberry.mutation(
        description="パスワード再設定: set a new password with the token of the "
        "reset mail's link. Lifts a WZBAM153E lock and ends every session. No "
        "login needed."
    )
    async def reset_password(
        self,
        info: Info,
        input: Annotated[
            ResetPasswordInput,
            strawberry.argument(description="Token and the new password twice."),
        ],
    ) -> ResetPasswordResult:
        return await password.reset_password(info, input)


def checked_parse(
    query: str, operation_name: str | None
) -> tuple[DocumentNode, GraphQLError | None]:
    """The parsed document (within the parse limits, else the syntax error is
    raised) and why it is refused before validation, if it is (see
    schema.document_limits)."""
    document = parse_bounded(query)
    return document, document_problem(document, operation_name)


def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    """graphql-core's validation with Strawberry's own two rules (as Strawberry
    runs it), stopping at MAX_VALIDATION_ERRORS and without suggestions."""
    return validate(
        schema,
        document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        max_errors=MAX_VALIDATION_ERRORS,
        hide_suggestions=True,
    )


# Parsed and validated documents are kept for reuse only up to this length: a
# long document parses to a large syntax tree, and a cache of such trees,
# filled with distinct documents (even ones that fail validation), held
# hundreds of MB. Portals send short documents; long ones are parsed anew.
CACHED_DOCUMENT_CHARS = 4000
CACHED_DOCUMENTS = 128

cached_checked_parse = functools.lru_cache(maxsize=CACHED_DOCUMENTS)(checked_parse)
cached_validate_document = functools.lru_cache(maxsize=CACHED_DOCUMENTS)(
    validate_document
)


class CheckedParse(SchemaExtension):
    """Parses within the source and token limits, then bounds the document by
    one linear pass (schema.document_limits) before any validation rule runs;
    short documents are parsed and checked once and kept."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query or ""
        # The name the request gave: Strawberry's `operation_name` falls back to
        # the first operation's, which would hide a missing name.
        operation_name = getattr(context, "_provided_operation_name", None)
        run = (
            cached_checked_parse
            if len(query) <= CACHED_DOCUMENT_CHARS
            else checked_parse
        )
        document, problem = run(query, operation_name)
        if problem is not None:
            raise problem
        context.graphql_document = document
        yield


class CheckedValidation(SchemaExtension):
    """Validates with validate_document; short documents once (the key holds
    the parsed tree, which CheckedParse keeps for them)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        run = (
            cached_validate_document
            if len(context.query or "") <= CACHED_DOCUMENT_CHARS
            else validate_document
        )
        if context.graphql_document is not None:
            context.pre_execution_errors = run(
                context.schema._schema,
                context.graphql_document,
                context.validation_rules,
            )
        yield


class RasSchema(strawberry.Schema):
    """Logs client mistakes quietly; unexpected errors are logged by IncidentMasking
    with their incident ID, so they are not logged here a second time. Answers
    public address lookups from the services' AnswerCache when it has them."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        run = functools.partial(
            super().execute,
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )
        if not isinstance(context_value, Context) or operation_extensions:
            return await run()
        services = context_value.services
        key = services.answers.key(
            query, variable_values, operation_name, context_value.lang
        )
        if key is None:
            return await run()
        now = services.clock.now()
        cached = services.answers.get(key, now)
        if cached is not None:
            return cached
        result = await run()
        services.answers.put(key, result, now)
        return result

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        for error in errors:
            if not is_unexpected(error):
                logger.debug("client error: %s", error.message)


def build_schema(**kwargs: Any) -> strawberry.Schema:
    """The service's schema with its protective extensions."""
    return RasSchema(
        query=Query,
        mutation=Mutation,
        # Reachable only through interfaces (AddressIncompleteError.fieldErrors).
        types=[FieldError, RequiredFieldError, StreetRequiredError],
        extensions=[
            IncidentMasking,
            lambda: AddValidationRules(VALIDATION_RULES),
            CheckedParse,
            CheckedValidation,
        ],
        **kwargs,
    )


schema = build_schema()
