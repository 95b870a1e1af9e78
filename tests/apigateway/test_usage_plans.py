"""Usage plans at work on deployed REST APIs: throttling (token buckets on the test clock: the stage's method
settings, the plan's throttle per key and per method, the most specific of each applying), quotas counted durably
per key and period (DAY, WEEK and MONTH with offsets, across a period boundary, across worker processes), and
GetUsage / UpdateUsage with their values and errors."""

from __future__ import annotations

import concurrent.futures
from datetime import UTC, datetime, timedelta

import httpx

from tests.apigateway.helpers import error_of, mock_method

SLOW = "0.001"  # tokens per second: nothing refills between two requests of a test, only the test clock does


def mock_api(gw, key_required: bool = True, stage: str = "prod") -> str:
    """A REST API with GET / and GET /pets (MOCK, 200 {"ok": true}) deployed to `stage`."""
    api = gw.create_rest_api(name="usage")
    api_id, root = api["id"], api["rootResourceId"]
    pets = gw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")["id"]
    for resource in (root, pets):
        mock_method(gw, api_id, resource, answer='{"ok": true}', apiKeyRequired=key_required)
    gw.create_deployment(restApiId=api_id, stageName=stage)
    return api_id


def keyed_plan(gw, api_id: str, values: list[str], stage: str = "prod", **plan) -> tuple[str, list[str]]:
    """(plan id, key ids) of a usage plan on the API stage holding enabled keys of these values."""
    plan_id = gw.create_usage_plan(name="plan", apiStages=[{"apiId": api_id, "stage": stage}], **plan)["id"]
    key_ids = []
    for value in values:
        key_id = gw.create_api_key(name=value[:8], enabled=True, value=value)["id"]
        gw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
        key_ids.append(key_id)
    return plan_id, key_ids


def get(broker, api_id: str, path: str = "/", key: str | None = None) -> httpx.Response:
    headers = {"x-api-key": key} if key else {}
    return httpx.get(f"{broker.url}/_aws/execute-api/{api_id}/prod{path}", headers=headers, timeout=30)


def statuses(broker, api_id: str, n: int, path: str = "/", key: str | None = None) -> list[int]:
    return [get(broker, api_id, path, key).status_code for _ in range(n)]


def now(broker) -> datetime:
    return datetime.fromtimestamp(broker.admin("GET", "/_broker/clock")["now_ms"] / 1000, UTC)


def move_to(broker, when: datetime) -> None:
    broker.advance((when - now(broker)).total_seconds())


def noon_after(broker, days: int = 0) -> datetime:
    """12:00 UTC of the day `days` after today (far from any day boundary)."""
    today = now(broker).replace(hour=12, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


def throttle_stage(gw, api_id: str, key: str, rate: str, burst: str) -> None:
    gw.update_stage(
        restApiId=api_id, stageName="prod",
        patchOperations=[
            {"op": "replace", "path": f"/{key}/throttling/rateLimit", "value": rate},
            {"op": "replace", "path": f"/{key}/throttling/burstLimit", "value": burst},
        ],
    )  # fmt: skip


# -- throttling


def test_stage_throttle_exhausts_its_burst_and_refills_on_the_clock(broker, gw):
    api_id = mock_api(gw, key_required=False)
    throttle_stage(gw, api_id, "*/*", SLOW, "2")
    assert statuses(broker, api_id, 2) == [200, 200]
    r = get(broker, api_id)
    assert (r.status_code, r.json()) == (429, {"message": "Too Many Requests"})
    assert r.headers["x-amzn-errortype"] == "TooManyRequestsException"
    broker.advance(1000)  # 1 token
    assert statuses(broker, api_id, 2) == [200, 429]
    broker.advance(10_000)  # refills to the burst, no further
    assert statuses(broker, api_id, 3) == [200, 200, 429]


def test_a_method_setting_overrides_the_stage_default_per_method(broker, gw):
    api_id = mock_api(gw, key_required=False)
    throttle_stage(gw, api_id, "*/*", SLOW, "1")
    throttle_stage(gw, api_id, "~1pets/GET", SLOW, "3")
    assert statuses(broker, api_id, 4, "/pets") == [200, 200, 200, 429]
    # `*/*` limits each method on its own: GET / still has its token.
    assert statuses(broker, api_id, 2, "/") == [200, 429]
    # Rate 0 with burst 0 turns a method off.
    throttle_stage(gw, api_id, "~1pets/GET", "0", "0")
    broker.advance(100_000)
    assert statuses(broker, api_id, 1, "/pets") == [429]
    assert statuses(broker, api_id, 1, "/") == [200]


def test_a_plan_throttles_each_key_on_its_own(broker, gw):
    api_id = mock_api(gw)
    a, b = "a" * 24, "b" * 24
    keyed_plan(gw, api_id, [a, b], throttle={"rateLimit": float(SLOW), "burstLimit": 2})
    assert statuses(broker, api_id, 3, key=a) == [200, 200, 429]
    assert statuses(broker, api_id, 3, key=b) == [200, 200, 429]
    broker.advance(1000)
    assert statuses(broker, api_id, 2, key=a) == [200, 429]


def test_a_plan_method_throttle_overrides_the_plan_throttle_and_the_stage_still_applies(broker, gw):
    api_id = mock_api(gw)
    key = "m" * 24
    key_id = gw.create_api_key(name="m", enabled=True, value=key)["id"]
    per_method = {"/pets/GET": {"rateLimit": float(SLOW), "burstLimit": 1}}
    plan = gw.create_usage_plan(
        name="per-method",
        apiStages=[{"apiId": api_id, "stage": "prod", "throttle": per_method}],
        throttle={"rateLimit": float(SLOW), "burstLimit": 4},
    )
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key_id, keyType="API_KEY")
    assert statuses(broker, api_id, 2, "/pets", key) == [200, 429]  # the method's own throttle
    assert statuses(broker, api_id, 5, "/", key) == [200, 200, 200, 200, 429]  # the plan's
    # The stage's limit applies as well: here its bucket empties first.
    broker.advance(100_000)
    throttle_stage(gw, api_id, "*/*", SLOW, "2")
    assert statuses(broker, api_id, 3, "/", key) == [200, 200, 429]


# -- quotas


def test_a_daily_quota_ends_at_its_limit_and_starts_again_the_next_utc_day(broker, gw):
    api_id = mock_api(gw)
    key = "q" * 24
    plan_id, (key_id,) = keyed_plan(gw, api_id, [key], quota={"limit": 3, "period": "DAY"})
    move_to(broker, noon_after(broker))
    day1 = now(broker).date()
    assert statuses(broker, api_id, 3, key=key) == [200, 200, 200]
    r = get(broker, api_id, key=key)
    assert (r.status_code, r.json()) == (429, {"message": "Limit Exceeded"})
    assert r.headers["x-amzn-errortype"] == "LimitExceededException"
    # Other methods of the stage share the key's quota.
    assert get(broker, api_id, "/pets", key).status_code == 429
    move_to(broker, datetime.combine(day1 + timedelta(days=1), datetime.min.time(), UTC) + timedelta(seconds=1))
    assert statuses(broker, api_id, 1, key=key) == [200]
    usage = gw.get_usage(
        usagePlanId=plan_id, startDate=(day1 - timedelta(days=1)).isoformat(),
        endDate=(day1 + timedelta(days=2)).isoformat(),
    )  # fmt: skip
    assert usage["usagePlanId"] == plan_id
    assert (usage["startDate"], usage["endDate"]) == (
        (day1 - timedelta(days=1)).isoformat(), (day1 + timedelta(days=2)).isoformat()
    )  # fmt: skip
    assert usage["items"] == {key_id: [[0, 3], [3, 0], [1, 2], [0, 3]]}
    assert "position" not in usage


def test_a_weekly_quota_period_starts_on_its_offset_day(broker, gw):
    api_id = mock_api(gw)
    key = "w" * 24
    # offset 1: the week starts on Monday.
    plan_id, (key_id,) = keyed_plan(gw, api_id, [key], quota={"limit": 2, "period": "WEEK", "offset": 1})
    noon = noon_after(broker)
    saturday = noon + timedelta(days=(5 - noon.weekday()) % 7 or 7)
    move_to(broker, saturday)
    assert statuses(broker, api_id, 2, key=key) == [200, 200]
    broker.advance(86_400)  # Sunday: still the same week
    assert statuses(broker, api_id, 1, key=key) == [429]
    broker.advance(86_400)  # Monday: a new week
    assert statuses(broker, api_id, 3, key=key) == [200, 200, 429]
    dates = [(saturday.date() + timedelta(days=i)).isoformat() for i in (0, 2)]
    usage = gw.get_usage(usagePlanId=plan_id, keyId=key_id, startDate=dates[0], endDate=dates[1])
    assert usage["items"] == {key_id: [[2, 0], [0, 0], [2, 0]]}


def test_a_monthly_quota_with_an_offset(broker, gw):
    api_id = mock_api(gw)
    key = "x" * 24
    # offset 4: a month runs from the 5th to the 4th.
    plan_id, (key_id,) = keyed_plan(gw, api_id, [key], quota={"limit": 1, "period": "MONTH", "offset": 4})
    noon = noon_after(broker)
    fourth = (noon.replace(day=1) + timedelta(days=32)).replace(day=4)
    move_to(broker, fourth)
    assert statuses(broker, api_id, 2, key=key) == [200, 429]
    broker.advance(86_400)  # the 5th: a new month
    assert statuses(broker, api_id, 2, key=key) == [200, 429]
    broker.advance(86_400 * 20)
    assert statuses(broker, api_id, 1, key=key) == [429]
    usage = gw.get_usage(
        usagePlanId=plan_id, startDate=fourth.date().isoformat(), endDate=(fourth.date() + timedelta(1)).isoformat()
    )
    assert usage["items"] == {key_id: [[1, 0], [1, 0]]}


def test_requests_without_a_key_are_not_counted(broker, gw):
    api_id = mock_api(gw, key_required=False)
    key = "f" * 24
    plan_id, (key_id,) = keyed_plan(gw, api_id, [key], quota={"limit": 1, "period": "DAY"})
    assert statuses(broker, api_id, 3, key=key) == [200, 200, 200]  # no method requires a key: no plan applies
    today = now(broker).date().isoformat()
    assert gw.get_usage(usagePlanId=plan_id, startDate=today, endDate=today)["items"] == {key_id: [[0, 1]]}


def test_the_quota_holds_across_worker_processes(server_factory):
    server = server_factory(workers=2).start()
    gw = server.client("apigateway")
    api_id = mock_api(gw)
    key = "c" * 24
    plan_id, (key_id,) = keyed_plan(gw, api_id, [key], quota={"limit": 7, "period": "DAY"})

    def one(_: int) -> int:  # a new connection per request: the kernel spreads them over both workers
        return get(server, api_id, key=key).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(20)))
    assert sorted(codes) == [200] * 7 + [429] * 13
    today = now(server).date().isoformat()
    assert gw.get_usage(usagePlanId=plan_id, startDate=today, endDate=today)["items"] == {key_id: [[7, 0]]}


# -- GetUsage and UpdateUsage


def test_update_usage_sets_the_remaining_quota_of_the_period(broker, gw):
    api_id = mock_api(gw)
    key = "u" * 24
    plan_id, (key_id,) = keyed_plan(gw, api_id, [key], quota={"limit": 2, "period": "DAY"})
    move_to(broker, noon_after(broker))
    today = now(broker).date().isoformat()
    assert statuses(broker, api_id, 3, key=key) == [200, 200, 429]
    out = gw.update_usage(
        usagePlanId=plan_id, keyId=key_id, patchOperations=[{"op": "replace", "path": "/remaining", "value": "3"}]
    )
    assert out["usagePlanId"] == plan_id
    assert out["items"] == {key_id: [[2, 3]]}
    assert (out["startDate"], out["endDate"]) == (today, today)
    assert statuses(broker, api_id, 4, key=key) == [200, 200, 200, 429]
    assert gw.get_usage(usagePlanId=plan_id, startDate=today, endDate=today)["items"] == {key_id: [[5, 0]]}
    gw.update_usage(
        usagePlanId=plan_id, keyId=key_id, patchOperations=[{"op": "replace", "path": "/remaining", "value": "0"}]
    )
    assert statuses(broker, api_id, 1, key=key) == [429]
    # The grant is for this period only.
    broker.advance(86_400)
    assert statuses(broker, api_id, 3, key=key) == [200, 200, 429]


def test_get_usage_lists_every_key_of_the_plan_and_pages(broker, gw):
    api_id = mock_api(gw)
    values = [c * 24 for c in "ghij"]
    plan_id, key_ids = keyed_plan(gw, api_id, values, quota={"limit": 10, "period": "DAY"})
    get(broker, api_id, key=values[0])
    today = now(broker).date().isoformat()
    usage = gw.get_usage(usagePlanId=plan_id, startDate=today, endDate=today)
    assert usage["items"] == {k: ([[1, 9]] if k == key_ids[0] else [[0, 10]]) for k in key_ids}
    first = gw.get_usage(usagePlanId=plan_id, startDate=today, endDate=today, limit=3)
    assert len(first["items"]) == 3 and "position" in first
    rest = gw.get_usage(usagePlanId=plan_id, startDate=today, endDate=today, limit=3, position=first["position"])
    assert set(first["items"]) | set(rest["items"]) == set(key_ids) and "position" not in rest


def test_get_usage_and_update_usage_errors(broker, gw):
    api_id = mock_api(gw)
    plan_id, (key_id,) = keyed_plan(gw, api_id, ["e" * 24], quota={"limit": 10, "period": "DAY"})
    bare = gw.create_usage_plan(name="no-quota")["id"]
    outsider = gw.create_api_key(name="outsider", value="o" * 24)["id"]
    day = "2026-01-02"
    missing = error_of(gw.get_usage, 404, usagePlanId="nope00", startDate=day, endDate=day)
    assert missing == {"Code": "NotFoundException", "Message": "Invalid Usage Plan ID specified"}
    not_in_plan = error_of(gw.get_usage, 404, usagePlanId=plan_id, keyId=outsider, startDate=day, endDate=day)
    assert not_in_plan == {"Code": "NotFoundException", "Message": "Invalid API Key identifier specified"}
    for start, end in (("2026-1-2", day), (day, "yesterday"), ("2026-02-30", "2026-03-01")):
        assert error_of(gw.get_usage, 400, usagePlanId=plan_id, startDate=start, endDate=end)["Code"] == (
            "BadRequestException"
        )
    backwards = error_of(gw.get_usage, 400, usagePlanId=plan_id, startDate="2026-01-03", endDate=day)
    assert backwards["Code"] == "BadRequestException"
    replace = [{"op": "replace", "path": "/remaining", "value": "5"}]
    assert error_of(gw.update_usage, 404, usagePlanId="nope00", keyId=key_id, patchOperations=replace)["Code"] == (
        "NotFoundException"
    )
    assert error_of(gw.update_usage, 404, usagePlanId=plan_id, keyId=outsider, patchOperations=replace) == {
        "Code": "NotFoundException", "Message": "Invalid API Key identifier specified",
    }  # fmt: skip
    gw.create_usage_plan_key(usagePlanId=bare, keyId=key_id, keyType="API_KEY")
    no_quota = error_of(gw.update_usage, 400, usagePlanId=bare, keyId=key_id, patchOperations=replace)
    assert no_quota["Code"] == "BadRequestException"
    for bad in (
        [{"op": "add", "path": "/remaining", "value": "5"}],
        [{"op": "replace", "path": "/used", "value": "5"}],
        [{"op": "replace", "path": "/remaining", "value": "many"}],
        [{"op": "replace", "path": "/remaining", "value": "-1"}],
        [],
    ):
        assert error_of(gw.update_usage, 400, usagePlanId=plan_id, keyId=key_id, patchOperations=bad)["Code"] == (
            "BadRequestException"
        )
