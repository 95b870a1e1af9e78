"""API keys, usage plans and the keys of a usage plan: account-wide objects (api_id ""), created, read, listed,
patched and deleted as API Gateway does, with CSV import of keys. A key's value is unique in its account and region
(an index row per value guards that on both backends); deleting a key or a plan drops the plan-key links with it.
The data plane enforces what these rows say: keys in api_keys.py, throttles and quotas in usage.py."""

from __future__ import annotations

import csv
import io
import secrets
import string
from typing import Any

from sqlalchemy import Connection

from broker import ids
from broker.context import RequestContext
from broker.errors import ServiceError
from broker.services.apigateway import common, errors, patch, store
from broker.services.apigateway.store import Doc
from broker.storage.db import Tx

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_VALUE_MIN, KEY_VALUE_MAX = 20, 128
QUOTA_PERIODS = ("DAY", "WEEK", "MONTH")
# The largest offset (first day of the period) a quota period takes.
QUOTA_MAX_OFFSET = {"DAY": 0, "WEEK": 6, "MONTH": 27}
KEY_PATCHABLE = {
    "name": patch.STRING,
    "description": patch.STRING,
    "enabled": patch.BOOL,
    "customerId": patch.STRING,
}
PLAN_PATCHABLE = {"name": patch.STRING, "description": patch.STRING, "productCode": patch.STRING}
# /throttle/<member> and /quota/<member>: patch path -> (parent member, member, value kind).
PLAN_NESTED: dict[str, tuple[str, str, str]] = {
    "/throttle/burstLimit": ("throttle", "burstLimit", patch.INT),
    "/throttle/rateLimit": ("throttle", "rateLimit", "double"),
    "/quota/limit": ("quota", "limit", patch.INT),
    "/quota/offset": ("quota", "offset", patch.INT),
    "/quota/period": ("quota", "period", patch.STRING),
}


def key_not_found() -> ServiceError:
    return errors.not_found("Invalid API Key identifier specified")


def plan_not_found() -> ServiceError:
    return errors.not_found("Invalid Usage Plan ID specified")


def stage_not_found() -> ServiceError:
    return errors.not_found("Invalid stage identifier specified")


def _check_stage(conn: Connection, account: str, region: str, api_id: str, stage: str) -> None:
    """NotFoundException unless the API and its stage exist."""
    if store.get(conn, account, region, store.REST_API, "", api_id) is None:
        raise errors.api_not_found(account, api_id)
    if store.get(conn, account, region, store.STAGE, api_id, stage) is None:
        raise stage_not_found()


# -- API keys


def _check_value(value: str) -> None:
    if len(value) < KEY_VALUE_MIN:
        raise errors.bad_request(f"API Key value should be at least {KEY_VALUE_MIN} characters")
    if len(value) > KEY_VALUE_MAX:
        raise errors.bad_request(f"API Key value should be at most {KEY_VALUE_MAX} characters")


def _key_answer(key: Doc, include_value: bool) -> Doc:
    out = {k: v for k, v in key.items() if include_value or k != "value"}
    out["createdDate"] = common.when(key["createdDate"])
    out["lastUpdatedDate"] = common.when(key["lastUpdatedDate"])
    return out


def _add_key(tx: Tx, account: str, region: str, key: Doc) -> None:
    """Store a new key; ConflictException when its value is taken."""
    if not store.add(tx, account, region, store.API_KEY_VALUE, "", key["value"], {"id": key["id"]}):
        raise errors.conflict("API Key already exists")
    store.add(tx, account, region, store.API_KEY, "", key["id"], key)


async def create_api_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    value = p.get("value")
    if value is None:
        value = "".join(secrets.choice(KEY_ALPHABET) for _ in range(40))
    _check_value(value)
    now = common.now()
    key: Doc = {"id": ids.short_id(), "value": value, "enabled": bool(p.get("enabled", False))}
    for member in ("name", "customerId", "description"):
        if p.get(member) is not None:
            key[member] = p[member]
    key["createdDate"] = now
    key["lastUpdatedDate"] = now
    stage_keys = [f"{s.get('restApiId')}/{s.get('stageName')}" for s in p.get("stageKeys") or []]
    key["stageKeys"] = list(dict.fromkeys(stage_keys))
    if p.get("tags"):
        key["tags"] = dict(p["tags"])

    def write(tx: Tx) -> None:
        for stage_key in key["stageKeys"]:
            api_id, _, stage = stage_key.partition("/")
            _check_stage(tx.conn, ctx.account, ctx.region, api_id, stage)
        _add_key(tx, ctx.account, ctx.region, key)

    await ctx.env.db.write(write)
    return _key_answer(key, True)


async def _key(ctx: RequestContext, key_id: str) -> Doc:
    return await common.stored(ctx, store.API_KEY, "", key_id, key_not_found)


async def get_api_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _key_answer(await _key(ctx, p["apiKey"]), bool(p.get("includeValue")))


async def get_api_keys(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    keys = await ctx.env.db.read(store.listing, ctx.account, ctx.region, store.API_KEY, "")
    name, customer = p.get("nameQuery"), p.get("customerId")
    if name:
        keys = [k for k in keys if str(k.get("name") or "").startswith(name)]
    if customer:
        keys = [k for k in keys if k.get("customerId") == customer]
    out = common.page(keys, lambda k: str(k["id"]), p)
    out["items"] = [_key_answer(k, bool(p.get("includeValues"))) for k in out["items"]]
    return out


def _stage_key_operation(key: Doc, operation: Doc) -> None:
    """/stages with add or remove of "<restApiId>/<stageName>" (the value, not the path, names the stage)."""
    op, value = operation.get("op"), operation.get("value")
    api_id, _, stage = str(value or "").partition("/")
    if op not in ("add", "remove") or not api_id or not stage:
        raise errors.bad_request(
            "Invalid patch operation specified. Must be 'add' or 'remove' with a value of '{restApiId}/{stageName}' "
            "for path /stages"
        )
    stage_keys: list[str] = list(key.get("stageKeys") or [])
    if op == "add" and value not in stage_keys:
        stage_keys.append(str(value))
    elif op == "remove" and value in stage_keys:
        stage_keys.remove(str(value))
    key["stageKeys"] = stage_keys


async def update_api_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    key_id = p["apiKey"]
    changed = await _key(ctx, key_id)
    added: list[str] = []
    for operation in p.get("patchOperations") or []:
        if operation.get("path") == "/stages":
            before = set(changed.get("stageKeys") or [])
            _stage_key_operation(changed, operation)
            added += [s for s in changed["stageKeys"] if s not in before]
        else:
            changed = patch.apply(changed, [operation], KEY_PATCHABLE)
    changed.setdefault("enabled", False)
    changed.setdefault("stageKeys", [])
    changed["lastUpdatedDate"] = common.now()

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, store.API_KEY, "", key_id) is None:
            raise key_not_found()
        for stage_key in added:
            api_id, _, stage = stage_key.partition("/")
            _check_stage(tx.conn, ctx.account, ctx.region, api_id, stage)
        store.put(tx, ctx.account, ctx.region, store.API_KEY, "", key_id, changed)

    await ctx.env.db.write(write)
    return _key_answer(changed, False)


def _remove_key(tx: Tx, account: str, region: str, key: Doc) -> None:
    """The key, its value's index row and its links to usage plans."""
    store.remove(tx, account, region, store.API_KEY, "", [key["id"]])
    store.remove(tx, account, region, store.API_KEY_VALUE, "", [key["value"]])
    for plan in store.listing(tx.conn, account, region, store.USAGE_PLAN, ""):
        store.remove(tx, account, region, store.USAGE_PLAN_KEY, plan["id"], [key["id"]])


async def delete_api_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    key_id = p["apiKey"]

    def write(tx: Tx) -> None:
        key = store.get(tx.conn, ctx.account, ctx.region, store.API_KEY, "", key_id)
        if key is None:
            raise key_not_found()
        _remove_key(tx, ctx.account, ctx.region, key)

    await ctx.env.db.write(write)
    return {}


def _csv_rows(body: bytes) -> tuple[dict[str, int], list[list[str]]]:
    """(lower-cased column name -> index, data rows) of an API key file; BadRequestException without the Name and
    Key columns."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.bad_request("Invalid API key file: it must be UTF-8 encoded CSV") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    except csv.Error as e:  # e.g. a field over the csv module's limit (128 KB): no key is that long
        raise errors.bad_request(f"Invalid API key file: {e}") from None
    if not rows:
        raise errors.bad_request("Invalid API key file: the file is empty")
    columns = {c.strip().lower(): i for i, c in enumerate(rows[0])}
    for required in ("name", "key"):
        if required not in columns:
            raise errors.bad_request(f"Invalid API key file: missing required column '{required}'")
    return columns, rows[1:]


async def import_api_keys(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("format") != "csv":
        raise errors.bad_request(f"Invalid format specified: {p.get('format')}. Must be 'csv'")
    columns, rows = _csv_rows(bytes(p.get("body") or b""))
    fail = bool(p.get("failOnWarnings"))

    def cell(row: list[str], column: str) -> str | None:
        i = columns.get(column)
        return row[i].strip() if i is not None and i < len(row) else None

    def write(tx: Tx) -> Doc:
        key_ids: list[str] = []
        warnings: list[str] = []
        for line, row in enumerate(rows, start=2):
            value, name = cell(row, "key") or "", cell(row, "name") or ""
            enabled_text = (cell(row, "enabled") or "true").lower()
            if not KEY_VALUE_MIN <= len(value) <= KEY_VALUE_MAX:
                warnings.append(f"Line {line}: the key must be between {KEY_VALUE_MIN} and {KEY_VALUE_MAX} characters")
                continue
            if len(name) > 1024:
                warnings.append(f"Line {line}: the name must be at most 1024 characters")
                continue
            if enabled_text not in ("true", "false"):
                warnings.append(f"Line {line}: invalid Enabled value '{enabled_text}'")
                continue
            plan_ids = [i.strip() for i in (cell(row, "usageplanids") or "").strip("'\"").split(",") if i.strip()]
            missing = [
                i for i in plan_ids if store.get(tx.conn, ctx.account, ctx.region, store.USAGE_PLAN, "", i) is None
            ]
            if missing:
                warnings.append(f"Line {line}: invalid usage plan identifier specified: {', '.join(missing)}")
                continue
            now = common.now()
            # The same value imported again overwrites the key it names (same id).
            index = store.get(tx.conn, ctx.account, ctx.region, store.API_KEY_VALUE, "", value)
            existing = index and store.get(tx.conn, ctx.account, ctx.region, store.API_KEY, "", index["id"])
            key: Doc = existing or {"id": ids.short_id(), "value": value, "createdDate": now, "stageKeys": []}
            key["name"] = name
            key["description"] = cell(row, "description") or ""
            key["enabled"] = enabled_text == "true"
            key["lastUpdatedDate"] = now
            if existing:
                store.put(tx, ctx.account, ctx.region, store.API_KEY, "", key["id"], key)
            else:
                _add_key(tx, ctx.account, ctx.region, key)
            for plan_id in plan_ids:
                link = {"id": key["id"], "type": "API_KEY"}
                store.put(tx, ctx.account, ctx.region, store.USAGE_PLAN_KEY, plan_id, key["id"], link)
            key_ids.append(key["id"])
        if warnings and fail:
            raise errors.bad_request("; ".join(warnings))
        return {"ids": key_ids, "warnings": warnings}

    return await ctx.env.db.write(write)


# -- usage plans


def _int(path: str, raw: Any) -> int:
    try:
        return int(str(raw))
    except ValueError:
        raise errors.bad_request(f"Invalid value '{raw}' for path {path}: must be an integer") from None


def _double(path: str, raw: Any) -> float:
    try:
        return float(str(raw))
    except ValueError:
        raise errors.bad_request(f"Invalid value '{raw}' for path {path}: must be a number") from None


def _check_plan(plan: Doc) -> None:
    throttle = plan.get("throttle") or {}
    if (throttle.get("burstLimit") or 0) < 0 or (throttle.get("rateLimit") or 0) < 0:
        raise errors.bad_request("Throttle burst and rate limits must not be negative")
    quota = plan.get("quota")
    if quota is not None:
        period = quota.get("period")
        if period not in QUOTA_PERIODS:
            raise errors.bad_request(f"Invalid quota period specified: {period}. Must be one of [DAY, WEEK, MONTH]")
        if (quota.get("limit") or 0) < 0:
            raise errors.bad_request("Quota limit must not be negative")
        offset = quota.get("offset") or 0
        if not 0 <= offset <= QUOTA_MAX_OFFSET[period]:
            raise errors.bad_request(
                f"Invalid quota offset {offset} for period {period}: must be between 0 and {QUOTA_MAX_OFFSET[period]}"
            )
    if not plan.get("name"):
        raise errors.bad_request("Invalid usage plan name specified: must be non-empty")


def _plan_answer(plan: Doc) -> Doc:
    return dict(plan)


def _stage_of(value: Any) -> tuple[str, str]:
    api_id, _, stage = str(value or "").partition(":")
    if not api_id or not stage:
        raise errors.bad_request(f"Invalid API stage specified: '{value}'. Must be '{{restApiId}}:{{stageName}}'")
    return api_id, stage


async def create_usage_plan(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    plan: Doc = {"id": ids.short_id(6), "name": p.get("name")}
    if p.get("description") is not None:
        plan["description"] = p["description"]
    stages: list[Doc] = []
    for entry in p.get("apiStages") or []:
        api_id, stage = str(entry.get("apiId") or ""), str(entry.get("stage") or "")
        if any((s["apiId"], s["stage"]) == (api_id, stage) for s in stages):
            continue
        item: Doc = {"apiId": api_id, "stage": stage}
        if entry.get("throttle"):
            item["throttle"] = entry["throttle"]
        stages.append(item)
    plan["apiStages"] = stages
    if p.get("throttle") is not None:
        plan["throttle"] = dict(p["throttle"])
    if p.get("quota") is not None:
        plan["quota"] = {"offset": 0, **p["quota"]}
    if p.get("tags"):
        plan["tags"] = dict(p["tags"])
    _check_plan(plan)

    def write(tx: Tx) -> None:
        for s in stages:
            _check_stage(tx.conn, ctx.account, ctx.region, s["apiId"], s["stage"])
        store.add(tx, ctx.account, ctx.region, store.USAGE_PLAN, "", plan["id"], plan)

    await ctx.env.db.write(write)
    return _plan_answer(plan)


async def _plan(ctx: RequestContext, plan_id: str) -> Doc:
    return await common.stored(ctx, store.USAGE_PLAN, "", plan_id, plan_not_found)


async def get_usage_plan(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _plan_answer(await _plan(ctx, p["usagePlanId"]))


def _plans_with_key(conn: Connection, account: str, region: str, key_id: str | None) -> list[Doc]:
    plans = store.listing(conn, account, region, store.USAGE_PLAN, "")
    if key_id is None:
        return plans
    return [p for p in plans if store.get(conn, account, region, store.USAGE_PLAN_KEY, p["id"], key_id) is not None]


async def get_usage_plans(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    plans = await ctx.env.db.read(_plans_with_key, ctx.account, ctx.region, p.get("keyId"))
    out = common.page(plans, lambda u: str(u["id"]), p)
    out["items"] = [_plan_answer(u) for u in out["items"]]
    return out


def _plan_operation(plan: Doc, operation: Doc) -> tuple[str, str] | None:
    """Apply one patch operation to a usage plan; answers the (apiId, stage) an `add /apiStages` brings in."""
    op, path, value = operation.get("op"), str(operation.get("path") or ""), operation.get("value")
    if path == "/apiStages":
        api_id, stage = _stage_of(value)
        stages: list[Doc] = list(plan.get("apiStages") or [])
        present = any((s["apiId"], s["stage"]) == (api_id, stage) for s in stages)
        if op == "add":
            if not present:
                stages.append({"apiId": api_id, "stage": stage})
            plan["apiStages"] = stages
            return api_id, stage
        if op == "remove":
            if not present:
                raise errors.bad_request(f"Invalid API stage specified: {api_id}:{stage} is not in the usage plan")
            plan["apiStages"] = [s for s in stages if (s["apiId"], s["stage"]) != (api_id, stage)]
            return None
        raise errors.bad_request("Invalid patch operation specified. Must be 'add' or 'remove' for path /apiStages")
    if path in ("/throttle", "/quota") and op == "remove":
        plan.pop(path[1:], None)
        return None
    if path in PLAN_NESTED:
        parent, member, kind = PLAN_NESTED[path]
        if op == "remove":
            (plan.get(parent) or {}).pop(member, None)
            return None
        if op not in ("replace", "add"):
            raise errors.bad_request(f"Invalid patch operation specified. Must be 'replace' for path {path}")
        if kind == patch.INT:
            parsed: Any = _int(path, value)
        elif kind == "double":
            parsed = _double(path, value)
        else:
            parsed = "" if value is None else str(value)
        nested = plan.setdefault(parent, {})
        nested[member] = parsed
        if parent == "quota":
            nested.setdefault("offset", 0)
        return None
    raise errors.bad_request(f"Invalid patch path '{path}' specified for op '{op}'")


async def update_usage_plan(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    plan_id = p["usagePlanId"]
    changed = await _plan(ctx, plan_id)
    added: list[tuple[str, str]] = []
    for operation in p.get("patchOperations") or []:
        path = str(operation.get("path") or "")
        if path in ("/apiStages", "/throttle", "/quota") or path in PLAN_NESTED:
            stage = _plan_operation(changed, operation)
            if stage is not None:
                added.append(stage)
        else:
            changed = patch.apply(changed, [operation], PLAN_PATCHABLE)
    changed.setdefault("apiStages", [])
    _check_plan(changed)

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, store.USAGE_PLAN, "", plan_id) is None:
            raise plan_not_found()
        for api_id, stage in added:
            _check_stage(tx.conn, ctx.account, ctx.region, api_id, stage)
        store.put(tx, ctx.account, ctx.region, store.USAGE_PLAN, "", plan_id, changed)

    await ctx.env.db.write(write)
    return _plan_answer(changed)


async def delete_usage_plan(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    plan_id = p["usagePlanId"]

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, store.USAGE_PLAN, "", plan_id) is None:
            raise plan_not_found()
        links = store.listing(tx.conn, ctx.account, ctx.region, store.USAGE_PLAN_KEY, plan_id)
        store.remove(tx, ctx.account, ctx.region, store.USAGE_PLAN_KEY, plan_id, [k["id"] for k in links])
        store.remove(tx, ctx.account, ctx.region, store.USAGE_PLAN, "", [plan_id])

    await ctx.env.db.write(write)
    return {}


# -- usage plan keys


def _plan_key_answer(key: Doc) -> Doc:
    """A usage plan key as AWS answers it: the API key's id, name and value, and the type."""
    out: Doc = {"id": key["id"], "type": "API_KEY", "value": key["value"]}
    if key.get("name") is not None:
        out["name"] = key["name"]
    return out


async def create_usage_plan_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    plan_id, key_id, key_type = p["usagePlanId"], p["keyId"], p["keyType"]
    if key_type != "API_KEY":
        raise errors.bad_request(f"Invalid key type specified: {key_type}. Must be API_KEY")

    def write(tx: Tx) -> Doc:
        if store.get(tx.conn, ctx.account, ctx.region, store.USAGE_PLAN, "", plan_id) is None:
            raise plan_not_found()
        key = store.get(tx.conn, ctx.account, ctx.region, store.API_KEY, "", key_id)
        if key is None:
            raise key_not_found()
        link = {"id": key_id, "type": "API_KEY"}
        if not store.add(tx, ctx.account, ctx.region, store.USAGE_PLAN_KEY, plan_id, key_id, link):
            raise errors.conflict(f"Usage Plan {plan_id} already contains API Key {key_id}")
        return key

    return _plan_key_answer(await ctx.env.db.write(write))


def _plan_keys(conn: Connection, account: str, region: str, plan_id: str) -> list[Doc] | None:
    """The API keys of a plan (None when there is no such plan)."""
    if store.get(conn, account, region, store.USAGE_PLAN, "", plan_id) is None:
        return None
    keys = []
    for link in store.listing(conn, account, region, store.USAGE_PLAN_KEY, plan_id):
        key = store.get(conn, account, region, store.API_KEY, "", link["id"])
        if key is not None:
            keys.append(key)
    return keys


async def get_usage_plan_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    keys = await ctx.env.db.read(_plan_keys, ctx.account, ctx.region, p["usagePlanId"])
    if keys is None:
        raise plan_not_found()
    for key in keys:
        if key["id"] == p["keyId"]:
            return _plan_key_answer(key)
    raise key_not_found()


async def get_usage_plan_keys(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    keys = await ctx.env.db.read(_plan_keys, ctx.account, ctx.region, p["usagePlanId"])
    if keys is None:
        raise plan_not_found()
    name = p.get("nameQuery")
    if name:
        keys = [k for k in keys if str(k.get("name") or "").startswith(name)]
    out = common.page(keys, lambda k: str(k["id"]), p)
    out["items"] = [_plan_key_answer(k) for k in out["items"]]
    return out


async def delete_usage_plan_key(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    plan_id, key_id = p["usagePlanId"], p["keyId"]

    def write(tx: Tx) -> None:
        if store.get(tx.conn, ctx.account, ctx.region, store.USAGE_PLAN, "", plan_id) is None:
            raise plan_not_found()
        if store.get(tx.conn, ctx.account, ctx.region, store.USAGE_PLAN_KEY, plan_id, key_id) is None:
            raise key_not_found()
        store.remove(tx, ctx.account, ctx.region, store.USAGE_PLAN_KEY, plan_id, [key_id])

    await ctx.env.db.write(write)
    return {}


HANDLERS = {
    "CreateApiKey": create_api_key,
    "GetApiKey": get_api_key,
    "GetApiKeys": get_api_keys,
    "UpdateApiKey": update_api_key,
    "DeleteApiKey": delete_api_key,
    "ImportApiKeys": import_api_keys,
    "CreateUsagePlan": create_usage_plan,
    "GetUsagePlan": get_usage_plan,
    "GetUsagePlans": get_usage_plans,
    "UpdateUsagePlan": update_usage_plan,
    "DeleteUsagePlan": delete_usage_plan,
    "CreateUsagePlanKey": create_usage_plan_key,
    "GetUsagePlanKey": get_usage_plan_key,
    "GetUsagePlanKeys": get_usage_plan_keys,
    "DeleteUsagePlanKey": delete_usage_plan_key,
}
