"""Filter patterns at unit level (broker/services/logs/filter_pattern.py): terms, phrases, OR and exclusion terms,
regular expressions, JSON selectors and operators, space-delimited fields; malformed patterns refused. The same
module serves FilterLogEvents and TestMetricFilter (tested through boto3 in test_events.py)."""

from __future__ import annotations

import pytest

from broker.services.logs.filter_pattern import InvalidFilterPattern, compile_pattern, split_words

ACCESS = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534'
CASES = [
    # empty: everything
    ("", "anything", True),
    ("   ", "anything", True),
    # terms: all must appear, case-sensitive substrings
    ("ERROR", "[ERROR] disk", True),
    ("ERROR", "error: disk", False),
    ("ERROR Exception", "ERROR in Exception handler", True),
    ("ERROR Exception", "ERROR only", False),
    ("user-id", "the user-id is 5", True),
    # quoted phrases match literally, including characters a bare term cannot hold
    ('"Failed to process"', "x Failed to process y", True),
    ('"Failed to process"', "Failed  to process", False),
    ('"a{b}[c]"', "x a{b}[c] y", True),
    ('"say \\"hi\\""', 'they say "hi"', True),
    # ?term: any of them
    ("?ERROR ?WARN", "WARN: low disk", True),
    ("?ERROR ?WARN", "INFO: fine", False),
    ("ERROR ?disk ?memory", "ERROR memory", True),
    ("ERROR ?disk ?memory", "ERROR cpu", False),
    # -term: none of them
    ("ERROR -Exiting", "ERROR Exiting now", False),
    ("ERROR -Exiting", "ERROR going on", True),
    ('-"health check"', "GET /healthz", True),
    ('-"health check"', "a health check", False),
    # %regex%
    ("%ERR[0-9]{3}%", "code ERR404 x", True),
    ("%ERR[0-9]{3}%", "code ERR4 x", False),
    ("%^INFO%", "INFO first", True),
    ("%^INFO%", "not INFO first", False),
    # JSON: strings with = and != and * wildcards
    ('{ $.eventType = "UpdateTrail" }', '{"eventType": "UpdateTrail"}', True),
    ('{ $.eventType = "UpdateTrail" }', '{"eventType": "updatetrail"}', False),
    ("{ $.eventType = Update* }", '{"eventType": "UpdateTrail"}', True),
    ('{ $.ip != "123.123.*" }', '{"ip": "10.0.0.1"}', True),
    ("{ $.ip != 123.123.* }", '{"ip": "123.123.0.1"}', False),
    ('{ $.ip != "x" }', '{"other": 1}', False),  # a comparison needs the field
    ("{ $.msg = %fail(ed)?% }", '{"msg": "it failed"}', None),  # groups are not AWS regex syntax: refused below
    ("{ $.msg = %fail% }", '{"msg": "it failed"}', True),
    # JSON: numbers
    ("{ $.latency > 1000 }", '{"latency": 1500}', True),
    ("{ $.latency > 1000 }", '{"latency": 1000}', False),
    ("{ $.latency >= 1000 }", '{"latency": 1000}', True),
    ("{ $.latency < 1e3 }", '{"latency": 999.5}', True),
    ("{ $.code = 200 }", '{"code": 200}', True),
    ("{ $.code != 200 }", '{"code": 500}', True),
    ("{ $.code = 200 }", '{"code": "200"}', True),
    ("{ $.latency > 5 }", '{"latency": "fast"}', False),
    ("{ $.flag > 0 }", '{"flag": true}', False),
    # JSON: IS TRUE / FALSE / NULL, NOT EXISTS
    ("{ $.ok IS TRUE }", '{"ok": true}', True),
    ("{ $.ok IS TRUE }", '{"ok": "true"}', False),
    ("{ $.ok IS FALSE }", '{"ok": false}', True),
    ("{ $.gone IS NULL }", '{"gone": null}', True),
    ("{ $.gone IS NULL }", "{}", False),
    ("{ $.gone NOT EXISTS }", '{"other": 1}', True),
    ("{ $.gone NOT EXISTS }", '{"gone": null}', False),
    # JSON: && || and parentheses (&& binds tighter)
    ('{ $.a = 1 && $.b = "x" }', '{"a": 1, "b": "x"}', True),
    ('{ $.a = 1 && $.b = "x" }', '{"a": 1, "b": "y"}', False),
    ("{ $.a = 1 || $.b = 2 }", '{"a": 0, "b": 2}', True),
    ("{ $.a = 1 || $.b = 2 && $.c = 3 }", '{"a": 1}', True),
    ("{ ($.a = 1 || $.b = 2) && $.c = 3 }", '{"a": 1}', False),
    ("{ ($.a = 1 || $.b = 2) && $.c = 3 }", '{"b": 2, "c": 3}', True),
    # JSON: nested fields and array indexes
    ('{ $.user.name = "bob" }', '{"user": {"name": "bob"}}', True),
    ("{ $.items[1].id = 7 }", '{"items": [{"id": 6}, {"id": 7}]}', True),
    ("{ $.items[2].id = 7 }", '{"items": [{"id": 6}, {"id": 7}]}', False),
    ("{ $[0] = 1 }", "[1, 2]", True),
    # JSON patterns never match events that are not JSON objects or arrays
    ('{ $.a = "x" }', "a = x", False),
    ('{ $.a = "x" }', '"x"', False),
    # space-delimited: a field per word; "..." and [...] runs are words; ... any number of words
    ("[ip, id, user, timestamp, request, status_code, bytes]", ACCESS, True),
    ("[ip, id, user, timestamp, request, status_code = 404, bytes]", ACCESS, True),
    ("[ip, id, user, timestamp, request, status_code = 4*, bytes > 1000]", ACCESS, True),
    ("[ip, id, user, timestamp, request, status_code = 5*, bytes]", ACCESS, False),
    ('[ip, id, user, timestamp, request = "*gif*", status_code, bytes]', ACCESS, True),
    ("[ip, ..., status_code = 404, bytes]", ACCESS, True),
    ("[..., bytes < 1000]", ACCESS, False),
    ("[ip, user]", ACCESS, False),  # the event has more words than fields
    ("[a, b != 200 && b != 404]", "x 500", True),
    ("[a, b != 200 && b != 404]", "x 404", False),
    ("[a, b = 200 || b = 404]", "x 404", True),
    ('["ERROR", rest]', "ERROR bad", True),
    ('["ERROR", rest]', "INFO bad", False),
]


@pytest.mark.parametrize(("pattern", "message", "expected"), [c for c in CASES if c[2] is not None])
def test_matching(pattern, message, expected):
    assert compile_pattern(pattern).matches(message) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "{ $.a = 1",  # starts with { without }
        "[a, b",
        '"unterminated',
        '""',
        "?",
        "ERROR -",
        "a?b",
        "a(b)",
        "%unterminated",
        "%a(b)%",  # no groups in AWS's regex syntax
        "%é%",  # nor multi-byte characters
        "{ }",
        "{ a = 1 }",  # selectors start with $
        "{ $ = 1 }",
        "{ $.a > x }",  # strings compare with = and != only
        '{ $.a < "1" }',
        "{ $.a = }",
        "{ $.a = 1 && }",
        "{ ($.a = 1 }",
        "{ $.a = 1 ) }",
        "{ $.a IS MAYBE }",
        "{ $.a NOT THERE }",
        "{ $.msg = %fail(ed)?% }",
        "[a, , b]",
        "[a, b =]",
        "[a, b = 1 && c]",
        "[1abc]",
        "{ " + "(" * 60 + "$.a = 1" + ")" * 60 + " }",  # nesting is bounded
    ],
)
def test_malformed_patterns_are_refused(pattern):
    with pytest.raises(InvalidFilterPattern):
        compile_pattern(pattern)


def test_extracted_values():
    delimited = compile_pattern("[ip, id, user, timestamp, request, status_code = 4*, bytes]")
    assert delimited.extracted(ACCESS) == {
        "$ip": "127.0.0.1",
        "$id": "-",
        "$user": "frank",
        "$timestamp": "10/Oct/2000:13:25:15 -0700",
        "$request": "GET /apache_pb.gif HTTP/1.0",
        "$status_code": "404",
        "$bytes": "1534",
    }
    assert compile_pattern("{ $.latency > 5 && $.user.name = * }").extracted(
        '{"latency": 7, "user": {"name": "bob"}}'
    ) == {"$.latency": "7", "$.user.name": "bob"}
    assert compile_pattern("ERROR").extracted("ERROR x") == {}


def test_required_substrings_only_for_plain_terms():
    assert compile_pattern('ERROR "disk full" ?a -b %c%').required_substrings() == ["ERROR", "disk full"]
    assert compile_pattern("{ $.a = 1 }").required_substrings() == []


def test_split_words():
    assert split_words(ACCESS) == [
        "127.0.0.1",
        "-",
        "frank",
        "10/Oct/2000:13:25:15 -0700",
        "GET /apache_pb.gif HTTP/1.0",
        "404",
        "1534",
    ]
    assert split_words('  a  "unclosed b') == ["a", '"unclosed', "b"]


def test_big_patterns_stay_cheap():
    # ellipses are matched by dynamic programming (no exponential backtracking), fields without recursion
    assert not compile_pattern("[" + "..., " * 60 + "a = zzz]").matches("x " * 3000)
    wide = compile_pattern("[" + "a," * 400 + "a]")
    assert wide.matches("x " * 401) and not wide.matches("x " * 400)
    assert compile_pattern("{ " + " && ".join(["$.a = 1"] * 300) + " }").matches('{"a": 1}')
    assert compile_pattern("{ " + "(" * 40 + "$.a = 1" + ")" * 40 + " }").matches('{"a": 1}')
