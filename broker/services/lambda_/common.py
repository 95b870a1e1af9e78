"""What Lambda's configuration operation groups share: qualifier kinds and checks, enum checks with AWS's
validation texts (the Lambda spec leaves enums to the operations), RevisionId bumps of the version or alias a
change touches, AWS's time forms, and Marker pagination."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any, TypeVar

from sqlalchemy import Connection

from broker import clock, ids, paging
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.lambda_ import errors, store
from broker.services.lambda_.store import LATEST, Function
from broker.storage.db import Tx

T = TypeVar("T")


# -- qualifiers -----------------------------------------------------------------------------------------------------
def is_version(qualifier: str) -> bool:
    return qualifier.isdigit()


def is_alias(qualifier: str) -> bool:
    return qualifier != LATEST and not qualifier.isdigit()


async def qualifier_exists(ctx: RequestContext, fn: Function, qualifier: str) -> bool:
    """Whether a version ($LATEST or a number) or alias of the function exists."""
    if qualifier == LATEST:
        return True
    if is_version(qualifier):
        found = await ctx.env.db.read(store.get_version, fn.account, fn.region, fn.name, qualifier)
        return found is not None
    return await ctx.env.db.read(store.get_alias, fn.id, qualifier) is not None


# -- validation texts -----------------------------------------------------------------------------------------------
def validation(failures: Sequence[str]) -> None:
    """Raise AWS's ValidationException for these constraint failures (none: nothing to raise)."""
    if not failures:
        return
    n = len(failures)
    raise errors.validation(f"{n} validation error{'s' if n > 1 else ''} detected: {'; '.join(failures)}")


def enum_failure(value: Any, member: str, allowed: Sequence[str], nested: bool = False) -> str:
    shown = f"[{', '.join(map(str, value))}]" if isinstance(value, list) else str(value)
    rule = f"Member must satisfy enum value set: [{', '.join(allowed)}]"
    if nested:
        rule = f"Member must satisfy constraint: [{rule}]"
    return f"Value '{shown}' at '{member}' failed to satisfy constraint: {rule}"


def check_enum(value: str | None, member: str, allowed: Sequence[str]) -> None:
    if value is not None and value not in allowed:
        validation([enum_failure(value, member, allowed)])


def check_enum_list(values: list[str] | None, member: str, allowed: Sequence[str]) -> None:
    if values and any(v not in allowed for v in values):
        validation([enum_failure(values, member, allowed, nested=True)])


# -- revisions ------------------------------------------------------------------------------------------------------
def revision_of(conn: Connection, fn: Function, qualifier: str | None) -> str | None:
    """The RevisionId of the version or alias a qualifier names ($LATEST when None), or None if it is gone."""
    q = qualifier or LATEST
    if is_alias(q):
        alias = store.get_alias(conn, fn.id, q)
        return str(alias["RevisionId"]) if alias else None
    version = store.get_version(conn, fn.account, fn.region, fn.name, q)
    return str(version.config["RevisionId"]) if version else None


def bump_revision(tx: Tx, fn: Function, qualifier: str | None) -> str | None:
    """Give the version or alias a new RevisionId (a policy or tag change is a change of it, as in Lambda)."""
    q = qualifier or LATEST
    revision = ids.uuid4()
    if is_alias(q):
        alias = store.get_alias(tx.conn, fn.id, q)
        if alias is None:
            return None
        store.put_alias(tx, fn.id, q, {**alias, "RevisionId": revision})
        return revision
    version = store.get_version(tx.conn, fn.account, fn.region, fn.name, q)
    if version is None:
        return None
    store.put_version_config(tx, fn.id, q, {**version.config, "RevisionId": revision}, version.code_sha)
    return revision


# -- times ----------------------------------------------------------------------------------------------------------
def iso_micro(ms: int | None = None) -> str:
    """ISO-8601 with microseconds and Z, as function URL configurations carry their times."""
    dt = clock.to_datetime(clock.now_ms() if ms is None else ms).astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- pagination -----------------------------------------------------------------------------------------------------
MAX_VERSION = 2**31 - 1  # version numbers are 32-bit columns


def _invalid_marker() -> ServiceError:
    return errors.invalid_parameter("Invalid marker.")


def _marker_text(value: object) -> str:
    """A name a Marker continues after, if it is one a query can carry (Markers come back from clients)."""
    if not isinstance(value, str) or "\x00" in value or len(value) > 1024:
        raise _invalid_marker()
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate, which JSON can spell
        raise _invalid_marker() from None
    return value


def after_name(marker: str) -> str:
    """What a name-ordered Marker continues after."""
    return _marker_text(paging.after_of(marker))


def after_number(marker: str) -> int:
    """What a number-ordered Marker continues after (0 is $LATEST)."""
    after = paging.after_of(marker)
    if type(after) is not int or not 0 <= after <= MAX_VERSION:
        raise _invalid_marker()
    return after


def version_marker(name: str, number: int) -> str:
    return paging.encode({"after": name, "version": number})


def after_version(marker: str) -> tuple[str, int]:
    """The (function name, version number) a Marker of ListFunctions(FunctionVersion=ALL) continues after; a
    name-only Marker continues after all versions of that function."""
    state = paging.decode(marker) or {}
    number = state.get("version", MAX_VERSION)
    if type(number) is not int or not 0 <= number <= MAX_VERSION:
        raise _invalid_marker()
    return _marker_text(state.get("after")), number


def page(
    items: list[T], key: Callable[[T], str], marker: str | None, max_items: int | None, default: int = 50
) -> tuple[list[T], str | None]:
    """A page of `items` (already in listing order by `key`) after the Marker, and the next Marker."""
    if marker:
        after = after_name(marker)
        items = [i for i in items if key(i) > after]
    limit = int(max_items or default)
    if len(items) > limit:
        items = items[:limit]
        return items, paging.after_token(key(items[-1]))
    return items, None
