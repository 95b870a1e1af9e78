"""Velocity mapping templates: the variables of API Gateway's reference ($input, $context, $stageVariables, $util)
rendered in-process with a fake request, values written as Java writes them, templates that may not reach Python's
internals; then a MOCK integration whose request and response templates run in a deployed API."""

from __future__ import annotations

import json

import httpx
import pytest

from broker.services.apigateway.templates import BodyError, Request, TemplateError, render

BODY = b'{"user": {"name": "Ann", "tags": ["a", "b"], "admin": true, "age": 41}, "items": [{"id": 1}, {"id": 2}]}'
REQUEST = Request(
    body=BODY,
    path={"id": "7"},
    querystring={"q": "shoes", "id": "query-id"},
    headers={"x-trace": "t-1", "content-type": "application/json"},
    context={
        "requestId": "req-1",
        "apiId": "abc123",
        "stage": "prod",
        "resourcePath": "/items/{id}",
        "resourceId": "res1",
        "httpMethod": "POST",
        "path": "/prod/items/7",
        "accountId": "000000000000",
        "requestTimeEpoch": 1700000000000,
        "identity": {"sourceIp": "127.0.0.1", "user": None},
    },
    stage_variables={"colour": "blue"},
)


def r(template: str, request: Request = REQUEST) -> str:
    return render(template, request).text


def test_input_body_json_and_path():
    assert r("$input.body") == BODY.decode()
    assert r("$input.json('$')") == json.dumps(json.loads(BODY), separators=(",", ":"))
    assert r("$input.json('$.user.name')") == '"Ann"'
    assert r("$input.json('$.user.tags')") == '["a","b"]'
    assert r("$input.json('$.items[1]')") == '{"id":2}'
    assert r("$input.json(\"$['user']['age']\")") == "41"
    assert r("$input.json('$.nothing')") == '""'
    assert r("$input.path('$.user.name')") == "Ann"
    # Objects, lists and booleans come back as Java's: written as Java writes them, with Java's methods.
    assert r("$input.path('$.user.tags')") == "[a, b]"
    assert r("$input.path('$.items[0]')") == "{id=1}"
    assert r("$input.path('$.user.admin')") == "true"
    assert r("$input.path('$.user.tags').size() $input.path('$.user').keySet()") == "2 [name, tags, admin, age]"
    assert r("#foreach($i in $input.path('$.items'))$i.id#if($foreach.hasNext),#end#end") == "1,2"
    assert r("#if($input.path('$.user.admin'))yes#end") == "yes"
    assert r("$input.path('$.items[*].id')") == "[1, 2]"
    assert r("$input.path('$.items[-1].id')") == "2"
    # An empty payload is `{}` to JSONPath; a null reference renders as nothing, not as its own text.
    assert r("[$input.json('$')][$input.path('$.a')][$nothing][$context.identity.user]", Request()) == "[{}][][][]"


def test_body_that_is_not_json():
    bad = Request(body=b"not json")
    assert r("$input.body", bad) == "not json"  # only reading it as JSON fails
    with pytest.raises(BodyError, match="Could not parse request body into json"):
        r("$input.json('$')", bad)
    with pytest.raises(TemplateError, match="Invalid JSONPath"):
        r("$input.path('$..deep')")


def test_params():
    # path before querystring before header; a missing one is the empty string
    assert r("$input.params('id') $input.params('q') $input.params('X-Trace') [$input.params('none')]") == (
        "7 shoes t-1 []"
    )
    assert r("$input.params().path.id $input.params().querystring.get('q')") == "7 shoes"
    assert r("$input.params().header.get('X-TRACE') $input.params().header.containsKey('x-trace')") == "t-1 true"
    assert r("#foreach($k in $input.params().keySet())$k #end") == "path querystring header "
    out = r(
        '#set($all = $input.params()){#foreach($type in $all.keySet())"$type":{'
        '#foreach($name in $all.get($type).keySet())"$name":"$util.escapeJavaScript($all.get($type).get($name))"'
        "#if($foreach.hasNext),#end#end}#if($foreach.hasNext),#end#end}"
    )
    assert json.loads(out) == {
        "path": {"id": "7"},
        "querystring": {"q": "shoes", "id": "query-id"},
        "header": {"x-trace": "t-1", "content-type": "application/json"},
    }


def test_context_and_stage_variables():
    out = r(
        "$context.requestId $context.apiId $context.stage $context.resourcePath $context.resourceId "
        "$context.httpMethod $context.identity.sourceIp $context.path $context.accountId $context.requestTimeEpoch "
        "$stageVariables.colour [$stageVariables.none]"
    )
    assert out == "req-1 abc123 prod /items/{id} res1 POST 127.0.0.1 /prod/items/7 000000000000 1700000000000 blue []"


def test_response_override():
    done = render(
        '#set($context.responseOverride.status = 418)#set($context.responseOverride.header.Xno = "1")x', REQUEST
    )
    assert (done.text, done.status) == ("x", 418)
    done = render("#set($context.responseOverride.header.xtra = 'v')y", REQUEST)
    assert (done.status, done.headers) == (None, {"xtra": "v"})


def test_util():
    assert r("$util.escapeJavaScript($input.params('x'))", Request(headers={"x": 'it\'s "q" a\\b/c\n\té☃'})) == (
        'it\\\'s \\"q\\" a\\\\b\\/c\\n\\t\\u00E9\\u2603'
    )
    assert r("$util.escapeJavaScript('\U0001f600\u0001')") == "\\uD83D\\uDE00\\u0001"
    assert r("$util.urlEncode('a b&c=d/é~*._-')") == "a+b%26c%3Dd%2F%C3%A9%7E*._-"
    assert r("$util.urlDecode('a+b%26c%3Dd%2F%C3%A9')") == "a b&c=d/é"
    assert r("$util.base64Encode('héllo')") == "aMOpbGxv"
    assert r("$util.base64Decode('aMOpbGxv')") == "héllo"
    assert r("""#set($o = $util.parseJson('{"a": [1, {"b": false}]}'))$o.a[1].b $o.a.size() $o""") == (
        "false 2 {a=[1, {b=false}]}"
    )
    with pytest.raises(TemplateError):
        r("$util.parseJson('{')")
    with pytest.raises(TemplateError):
        r("$util.base64Decode('***')")


@pytest.mark.parametrize(
    "template",
    [
        "$input.__class__",
        "$util.escapeJavaScript.__func__.__globals__",
        "$input.body.format('{0.__class__}')",
        "$input._request",
        "#set($x = 'a')$x.__class__.__mro__",
        # names inside a map literal and in #evaluate are checked too (they escape a walk of the parsed template)
        '#set($m = {"k": $util.escapeJavaScript.__func__.__globals__})$m',
        "#evaluate('$util.__class__')",
        "#set($code = '$input.__class__')#evaluate($code)",
    ],
)
def test_templates_cannot_reach_python_internals(template):
    with pytest.raises(TemplateError, match="Invalid reference"):
        r(template)


def test_foreach_quota_and_runaway_templates():
    assert r("#foreach($i in [1..1000])#end done") == " done"
    with pytest.raises(TemplateError, match="1000"):
        r("#foreach($i in [1..1001])x#end")
    with pytest.raises(TemplateError):
        r("#macro(loop)#loop()#end#loop()")
    # Nested loops multiply: all the loops of one evaluation share a budget.
    with pytest.raises(TemplateError, match="iterations"):
        r("#foreach($i in [1..1000])#foreach($j in [1..1000])#end#end")
    # Values and output are bounded: a string doubled in a loop, repetition and formatting of strings.
    with pytest.raises(TemplateError, match="#set value"):
        r('#set($s = "ab")#foreach($i in [1..40])#set($s = "$s$s")#end')
    for template in ('#set($x = "x" * 100)', '#set($x = "%999999999d" % 5)', "$input.body.zfill(99999999)"):
        with pytest.raises(TemplateError):
            r(template)
    assert r("#set($n = 6 * 7)#set($m = 7 % 4)$n $m") == "42 3"


# -- end to end -----------------------------------------------------------------------------------------------------
REQUEST_TEMPLATE = """#if($input.params('q') == "teapot")
{"statusCode": 418}
#else
{"statusCode": 200}
#end"""
RESPONSE_OK = """{"q": "$util.escapeJavaScript($input.params('q'))", "requestId": "$context.requestId",
 "stage": "$context.stage", "colour": "$stageVariables.colour", "path": "$context.resourcePath"}"""
RESPONSE_TEAPOT = """#set($context.responseOverride.header.Brew = "no")
#set($context.responseOverride.header.Echo = $input.params('echo'))
{"teapot": true, "requestId": "$context.requestId"}"""


def test_mock_integration_with_templates(broker):
    gw = broker.client("apigateway")
    rest = gw.create_rest_api(name="templated")
    api_id, root = rest["id"], rest["rootResourceId"]
    search = gw.create_resource(restApiId=api_id, parentId=root, pathPart="search")["id"]
    gw.put_method(restApiId=api_id, resourceId=search, httpMethod="GET", authorizationType="NONE")
    gw.put_integration(
        restApiId=api_id, resourceId=search, httpMethod="GET", type="MOCK",
        requestTemplates={"application/json": REQUEST_TEMPLATE},
    )  # fmt: skip
    for code in ("200", "418"):
        gw.put_method_response(restApiId=api_id, resourceId=search, httpMethod="GET", statusCode=code)
    gw.put_integration_response(
        restApiId=api_id, resourceId=search, httpMethod="GET", statusCode="200",
        responseTemplates={"application/json": RESPONSE_OK},
    )  # fmt: skip
    gw.put_integration_response(
        restApiId=api_id, resourceId=search, httpMethod="GET", statusCode="418", selectionPattern="418",
        responseTemplates={"application/json": RESPONSE_TEAPOT},
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod", variables={"colour": "green"})

    url = f"{broker.url}/_aws/execute-api/{api_id}/prod/search"
    q = 'it\'s "quoted" / done'
    resp = httpx.get(url, params={"q": q}, timeout=60)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    request_id = resp.headers["x-amzn-requestid"]
    # escapeJavaScript escapes the single quote too, which JSON does not allow: what AWS sends is not JSON.
    assert "\\'" in resp.text
    doc = json.loads(resp.text.replace("\\'", "'"))
    assert doc == {"q": q, "requestId": request_id, "stage": "prod", "colour": "green", "path": "/search"}

    resp = httpx.get(url, params={"q": "teapot", "echo": "tea"}, timeout=60)
    assert resp.status_code == 418, resp.text
    assert (resp.headers["brew"], resp.headers["echo"]) == ("no", "tea")
    assert resp.json() == {"teapot": True, "requestId": resp.headers["x-amzn-requestid"]}
    # a header value taken from the request never splits the response
    resp = httpx.get(url, params={"q": "teapot", "echo": "tea\r\nx-evil: 1"}, timeout=60)
    assert resp.status_code == 418 and resp.headers["brew"] == "no"
    assert "echo" not in resp.headers and "x-evil" not in resp.headers
    assert resp.json() == {"teapot": True, "requestId": resp.headers["x-amzn-requestid"]}

    # A body that a template reads as JSON must be JSON; a template that fails is the integration's 500.
    gw.update_integration(
        restApiId=api_id, resourceId=search, httpMethod="GET",
        patchOperations=[{"op": "replace", "path": "/requestTemplates/application~1json",
                          "value": '{"statusCode": $input.json(\'$.code\')}'}],
    )  # fmt: skip
    gw.create_deployment(restApiId=api_id, stageName="prod")
    resp = httpx.request("GET", url, content=b"{broken", timeout=60)
    assert resp.status_code == 400 and resp.json()["message"].startswith("Could not parse request body into json")
    resp = httpx.request("GET", url, content=b'{"code": 418}', timeout=60)
    assert resp.status_code == 418
