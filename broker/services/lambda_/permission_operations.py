"""Resource-based policies of functions: AddPermission, RemovePermission, GetPolicy, and the whole-document
Put/Get/DeleteResourcePolicy. The unqualified function's policy is the function row's; a version's or alias's is
its kind "policy" configuration. A change of a policy is a change of its version or alias: it gets a new
RevisionId, which is the RevisionId GetPolicy answers, as in Lambda."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Connection

from broker.auth.resource_policy import denial, not_authorized
from broker.context import RequestContext
from broker.services.lambda_ import arns, errors, store
from broker.services.lambda_.arns import FunctionRef, function_arn
from broker.services.lambda_.common import bump_revision, check_enum, is_version, qualifier_exists, revision_of
from broker.services.lambda_.functions import function
from broker.services.lambda_.store import LATEST, Function
from broker.services.lambda_.wake import changed
from broker.storage.db import Tx

POLICY = "policy"
MAX_POLICY_BYTES = 20_480
COMPACT = (",", ":")
URL_AUTH_TYPES = ["NONE", "AWS_IAM"]
_ACCOUNT = re.compile(r"\d{12}")
_IAM_ARN = re.compile(r"arn:aws[a-zA-Z-]*:iam::\d{12}:(root|user/.+|role/.+|assumed-role/.+|federated-user/.+)")
_SERVICE = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")


# -- storage of policy documents ----------------------------------------------------------------------------------
def load(conn: Connection, fn: Function, qualifier: str | None) -> dict[str, Any] | None:
    if qualifier is None:
        found = store.function_by_id(conn, fn.id)
        return found.policy if found else None
    return store.get_config(conn, fn.id, POLICY, qualifier)


def save(tx: Tx, fn: Function, qualifier: str | None, document: dict[str, Any] | None) -> None:
    if qualifier is None:
        store.set_function_fields(tx, fn.id, policy=document)
    elif document is None:
        store.delete_config(tx, fn.id, POLICY, qualifier)
    else:
        store.put_config(tx, fn.id, POLICY, qualifier, document)


def policy_of(conn: Connection, arn: str) -> tuple[str | None, str] | None:
    """The policy text an invocation of a function ARN is checked against (a version's or alias's for an ARN that
    names one, else the function's), and the resource it is checked for; None when there is no such function."""
    parts = arn.split(":")  # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    if len(parts) not in (7, 8) or parts[2] != "lambda" or parts[5] != "function":
        return None
    ref = FunctionRef(parts[4], parts[3], parts[6], parts[7] if len(parts) == 8 else None)
    fn = store.get_function(conn, ref.account, ref.region, ref.name)
    if fn is None:
        return None
    qualifier = _qualifier(ref)
    document = load(conn, fn, qualifier)
    return (_text(document) if document else None), (ref.qualified_arn if qualifier else ref.arn)


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=COMPACT)


def _check_size(document: dict[str, Any]) -> None:
    size = len(_text(document).encode())
    if size > MAX_POLICY_BYTES:
        raise errors.policy_too_long(size, MAX_POLICY_BYTES)


async def authorize(ctx: RequestContext, ref: FunctionRef, action: str) -> None:
    """With auth = "sigv4", a caller of another account (which `arns.parse(..., shared=True)` let through) needs the
    grant of `action` by the policy of the function, version or alias it names (a permission on the unqualified
    function covers that ARN, i.e. $LATEST); a missing function grants nothing."""
    if not ctx.authenticated or ref.account == ctx.caller.account:
        return
    qualifier = _qualifier(ref)
    resource = ref.qualified_arn if qualifier else ref.arn

    def read(conn: Connection) -> dict[str, Any] | None:
        fn = store.get_function(conn, ref.account, ref.region, ref.name)
        return load(conn, fn, qualifier) if fn else None

    document = await ctx.env.db.read(read)
    reason = denial(ctx, ref.account, _text(document) if document else None, action, resource)
    if reason is not None:
        raise errors.not_authorized(not_authorized(ctx.caller, action, resource, reason))


# -- statements -------------------------------------------------------------------------------------------------
def _principal(text: str) -> Any:
    """A Principal parameter in the statement's form: "*", {"AWS": ...} (an account becomes its root ARN) or
    {"Service": ...}."""
    if text == "*":
        return "*"
    if _ACCOUNT.fullmatch(text):
        return {"AWS": f"arn:aws:iam::{text}:root"}
    if _IAM_ARN.fullmatch(text):
        return {"AWS": text}
    if _SERVICE.fullmatch(text):
        return {"Service": text}
    raise errors.invalid_principal()


def _condition(p: dict[str, Any]) -> dict[str, Any]:
    equals: dict[str, str] = {}
    if p.get("SourceAccount"):
        equals["AWS:SourceAccount"] = p["SourceAccount"]
    if p.get("EventSourceToken"):
        equals["lambda:EventSourceToken"] = p["EventSourceToken"]
    if p.get("PrincipalOrgID"):
        equals["aws:PrincipalOrgID"] = p["PrincipalOrgID"]
    if p.get("FunctionUrlAuthType"):
        equals["lambda:FunctionUrlAuthType"] = p["FunctionUrlAuthType"]
    out: dict[str, Any] = {}
    if equals:
        out["StringEquals"] = equals
    if p.get("SourceArn"):
        out["ArnLike"] = {"AWS:SourceArn": p["SourceArn"]}
    if p.get("InvokedViaFunctionUrl"):
        out["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    return out


async def _check_qualifier(ctx: RequestContext, fn: Function, qualifier: str) -> None:
    """A version, or an alias, that exists (AWS's error for each)."""
    if await qualifier_exists(ctx, fn, qualifier):
        return
    arn = function_arn(fn.account, fn.region, fn.name, qualifier)
    if is_version(qualifier) or "$" in qualifier:
        raise errors.function_not_found(arn)
    raise errors.not_found(f"Cannot find alias arn: {arn}")


def _qualifier(ref: FunctionRef) -> str | None:
    """The policy a qualifier names: None is the function's own (also for $LATEST)."""
    return None if ref.qualifier in (None, LATEST) else ref.qualifier


async def add_permission(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"))
    if ref.qualifier == LATEST:
        raise errors.invalid_parameter("We currently do not support adding policies for $LATEST.")
    check_enum(p.get("FunctionUrlAuthType"), "functionUrlAuthType", URL_AUTH_TYPES)
    principal = _principal(p["Principal"])
    fn = await function(ctx, ref)
    qualifier = _qualifier(ref)
    if qualifier is not None:
        await _check_qualifier(ctx, fn, qualifier)
    sid = p["StatementId"]
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": p["Action"],
        "Resource": ref.qualified_arn,
    }
    condition = _condition(p)
    if condition:
        statement["Condition"] = condition

    def write(tx: Tx) -> None:
        if p.get("RevisionId") is not None and p["RevisionId"] != revision_of(tx.conn, fn, qualifier):
            raise errors.revision_mismatch()
        document = load(tx.conn, fn, qualifier) or {"Version": "2012-10-17", "Id": "default", "Statement": []}
        if any(s.get("Sid") == sid for s in document["Statement"]):
            raise errors.statement_exists(sid)
        document = {**document, "Statement": [*document["Statement"], statement]}
        _check_size(document)
        save(tx, fn, qualifier, document)
        bump_revision(tx, fn, qualifier)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)
    return {"Statement": _text(statement)}


async def remove_permission(ctx: RequestContext, p: dict[str, Any]) -> None:
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"))
    fn = await ctx.env.db.read(store.get_function, ref.account, ref.region, ref.name)
    if fn is None:
        raise errors.no_policy_for(ref.arn)
    qualifier = _qualifier(ref)
    if qualifier is not None:
        await _check_qualifier(ctx, fn, qualifier)
    sid = p["StatementId"]

    def write(tx: Tx) -> None:
        document = load(tx.conn, fn, qualifier)
        if document is None:
            raise errors.no_policy()
        kept = [s for s in document.get("Statement", []) if s.get("Sid") != sid]
        if len(kept) == len(document.get("Statement", [])):
            raise errors.statement_missing(sid)
        if p.get("RevisionId") is not None and p["RevisionId"] != revision_of(tx.conn, fn, qualifier):
            raise errors.revision_mismatch()
        save(tx, fn, qualifier, {**document, "Statement": kept} if kept else None)
        bump_revision(tx, fn, qualifier)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)


async def get_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ref = arns.parse(ctx, p["FunctionName"], p.get("Qualifier"))
    fn = await function(ctx, ref)
    qualifier = _qualifier(ref)
    if qualifier is not None and not await qualifier_exists(ctx, fn, qualifier):
        raise errors.resource_missing()

    def read(conn: Connection) -> tuple[dict[str, Any] | None, str | None]:
        return load(conn, fn, qualifier), revision_of(conn, fn, qualifier)

    document, revision = await ctx.env.db.read(read)
    if not document:
        raise errors.resource_missing()
    return {"Policy": _text(document), "RevisionId": revision}


# -- whole policy documents (Put/Get/DeleteResourcePolicy) --------------------------------------------------------
async def _resource(ctx: RequestContext, arn: str, operation: str) -> tuple[Function, str | None]:
    if ":function:" not in arn:
        raise errors.unsupported(f"{operation} of a runtime resource")
    ref = arns.parse(ctx, arn)
    if ref.qualifier == LATEST:
        raise errors.invalid_parameter("We currently do not support adding policies for $LATEST.")
    fn = await function(ctx, ref)
    qualifier = _qualifier(ref)
    if qualifier is not None:
        await _check_qualifier(ctx, fn, qualifier)
    return fn, qualifier


def _document(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise errors.invalid_parameter("The policy is not a valid JSON document.") from None
    if not isinstance(document, dict) or "Statement" not in document:
        raise errors.invalid_parameter("The policy must be a JSON object with a Statement.")
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise errors.invalid_parameter("The policy's Statement must be a statement or a list of statements.")
    return {**document, "Statement": statements}


async def put_resource_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn, qualifier = await _resource(ctx, p["ResourceArn"], "PutResourcePolicy")
    document = _document(p["Policy"])
    _check_size(document)

    def write(tx: Tx) -> str | None:
        if p.get("RevisionId") is not None and p["RevisionId"] != revision_of(tx.conn, fn, qualifier):
            raise errors.revision_mismatch()
        save(tx, fn, qualifier, document)
        revision = bump_revision(tx, fn, qualifier)
        changed(tx, fn.account, fn.region, fn.name)
        return revision

    revision = await ctx.env.db.write(write)
    return {"Policy": _text(document), "RevisionId": revision}


async def get_resource_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    fn, qualifier = await _resource(ctx, p["ResourceArn"], "GetResourcePolicy")

    def read(conn: Connection) -> tuple[dict[str, Any] | None, str | None]:
        return load(conn, fn, qualifier), revision_of(conn, fn, qualifier)

    document, revision = await ctx.env.db.read(read)
    if not document:
        raise errors.resource_missing()
    return {"Policy": _text(document), "RevisionId": revision}


async def delete_resource_policy(ctx: RequestContext, p: dict[str, Any]) -> None:
    fn, qualifier = await _resource(ctx, p["ResourceArn"], "DeleteResourcePolicy")

    def write(tx: Tx) -> None:
        if p.get("RevisionId") is not None and p["RevisionId"] != revision_of(tx.conn, fn, qualifier):
            raise errors.revision_mismatch()
        if load(tx.conn, fn, qualifier) is None:
            return  # nothing to delete: succeeds, as deleting a policy that is gone should
        save(tx, fn, qualifier, None)
        bump_revision(tx, fn, qualifier)
        changed(tx, fn.account, fn.region, fn.name)

    await ctx.env.db.write(write)


HANDLERS = {
    "AddPermission": add_permission,
    "RemovePermission": remove_permission,
    "GetPolicy": get_policy,
    "PutResourcePolicy": put_resource_policy,
    "GetResourcePolicy": get_resource_policy,
    "DeleteResourcePolicy": delete_resource_policy,
}
