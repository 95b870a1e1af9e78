"""Tags of functions, event source mappings and code signing configurations (TagResource, UntagResource,
ListTags). A function's tags are a change of the function: its $LATEST gets a new RevisionId, as in Lambda."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from broker import tags
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.lambda_ import config_store, errors, mapping_store, store
from broker.services.lambda_.arns import function_arn
from broker.services.lambda_.common import bump_revision
from broker.services.lambda_.wake import changed
from broker.storage.db import Tx

MAX_TAGS = 50
_RESOURCE = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[^:]+):(?P<account>\d{12}):"
    r"(?:function:(?P<function>[a-zA-Z0-9-_]+)(?::(?P<qualifier>.+))?"
    r"|code-signing-config:(?P<csc>csc-[a-z0-9]{17})"
    r"|event-source-mapping:(?P<esm>[0-9a-fA-F-]{36})"
    r"|(?P<other>.+))"
)


def _too_many() -> ServiceError:
    return errors.invalid_parameter("Number of tags exceeds resource tag limit.")


def _change(ctx: RequestContext, arn: str, change: Callable[[dict[str, str]], dict[str, str]]) -> Callable[[Tx], None]:
    """A write unit that applies `change` to the tags of the resource `arn` names (read and written in one
    transaction, so concurrent changes do not lose each other)."""
    m = _resource(ctx, arn)

    def write(tx: Tx) -> None:
        if m["function"]:
            fn = store.get_function(tx.conn, m["account"], m["region"], m["function"])
            if fn is None:
                raise errors.function_not_found(function_arn(m["account"], m["region"], m["function"]))
            store.set_function_fields(tx, fn.id, tags=change(fn.tags))
            bump_revision(tx, fn, None)
            changed(tx, fn.account, fn.region, fn.name)
        elif m["csc"]:
            csc = config_store.get_csc(tx.conn, m["account"], m["region"], m["csc"])
            if csc is None:
                raise errors.code_signing_missing(arn)
            config_store.put_csc(tx, m["account"], m["region"], m["csc"], {**csc, "Tags": change(csc.get("Tags", {}))})
        else:
            found = mapping_store.get(tx.conn, m["account"], m["region"], m["esm"])
            if found is None:
                raise errors.resource_missing()
            mapping_store.put(tx, m["esm"], {**found, "Tags": change(found.get("Tags", {}))})

    return write


def _resource(ctx: RequestContext, arn: str) -> dict[str, Any]:
    m = _RESOURCE.fullmatch(arn)
    if m is None or m["other"] or (m["account"], m["region"]) != (ctx.account, ctx.region):
        if m is not None and m["function"]:
            raise errors.function_not_found(function_arn(m["account"], m["region"], m["function"]))
        raise errors.resource_missing()  # capacity providers, network connectors, another account's resources
    if m["function"] and m["qualifier"]:
        raise errors.invalid_parameter(
            "Tags on function aliases and versions are not supported. Please specify a function ARN."
        )
    return m.groupdict()


async def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> None:
    add = p["Tags"]
    if not add:
        raise errors.invalid_parameter("An error occurred and the request cannot be processed.")
    if len(add) > MAX_TAGS:
        raise _too_many()
    await ctx.env.db.write(_change(ctx, p["Resource"], lambda old: tags.changed(old, add, (), MAX_TAGS, _too_many)))


async def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> None:
    keys = p["TagKeys"]
    await ctx.env.db.write(_change(ctx, p["Resource"], lambda old: tags.changed(old, {}, keys, MAX_TAGS, _too_many)))


async def list_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["Resource"]
    m = _resource(ctx, arn)
    if m["function"]:
        fn = await ctx.env.db.read(store.get_function, m["account"], m["region"], m["function"])
        if fn is None:
            raise errors.function_not_found(function_arn(m["account"], m["region"], m["function"]))
        return {"Tags": fn.tags}
    if m["csc"]:
        csc = await ctx.env.db.read(config_store.get_csc, m["account"], m["region"], m["csc"])
        if csc is None:
            raise errors.code_signing_missing(arn)
        return {"Tags": csc.get("Tags", {})}
    found = await ctx.env.db.read(mapping_store.get, m["account"], m["region"], m["esm"])
    if found is None:
        raise errors.resource_missing()
    return {"Tags": found.get("Tags", {})}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTags": list_tags,
}
