"""SNS subscription filter policy cases, as plain data.

MATCH_CASES: (policy, scope, message, expected) where message is the MessageAttributes dict (Publish's
{"DataType", "StringValue"/"BinaryValue"} shape) for the MessageAttributes scope, or the raw message string for the
MessageBody scope.
INVALID_POLICIES: (policy, scope, error fragment); the policy is a dict to serialise, or the raw FilterPolicy string.

Used by tests/sns/test_filter_policy_engine.py directly and by end-to-end tests through a real server, so every
value here is JSON-able (Binary attribute values are bytes). Examples come from the SNS Developer Guide, pages
under https://docs.aws.amazon.com/sns/latest/dg/ cited per group.
"""

from __future__ import annotations

import json

ATTRS = "MessageAttributes"
BODY = "MessageBody"


def s(value: str, data_type: str = "String") -> dict:
    return {"DataType": data_type, "StringValue": value}


def n(value: str, data_type: str = "Number") -> dict:
    return {"DataType": data_type, "StringValue": value}


def arr(*values: object) -> dict:
    return {"DataType": "String.Array", "StringValue": json.dumps(list(values))}


def b(value: bytes) -> dict:
    return {"DataType": "Binary", "BinaryValue": value}


def body(document: object) -> str:
    return json.dumps(document)


# example-filter-policies.html: the customer-transaction message, as attributes and as a body.
_TXN_ATTRS = {
    "customer_interests": arr("soccer", "rugby", "hockey"),
    "store": s("example_corp"),
    "event": s("order_placed"),
    "price_usd": n("210.75"),
}
_TXN_BODY = (
    '{"customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp", '
    '"event": "order_placed", "price_usd": 210.75}'
)
_TXN_ACCEPT = {
    "store": ["example_corp"],
    "event": [{"anything-but": "order_cancelled"}],
    "customer_interests": ["rugby", "football", "baseball"],
    "price_usd": [{"numeric": [">=", 100]}],
}
_TXN_REJECT = {
    "store": ["example_corp"],
    "event": ["order_cancelled"],
    "encrypted": [False],
    "customer_interests": ["basketball", "baseball"],
}

# and-or-logic.html
_AND = {"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}
_OR_VALUES = {"customer_interests": ["rugby", "football", "baseball"]}
_OR_STANDARD = {
    "source": ["aws.cloudwatch"],
    "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
}
_OR_INSIDE_OR = {
    "source": ["aws.cloudwatch"],
    "$or": [
        {"metricName": ["CPUUtilization", "ReadLatency"]},
        {"metricType": ["MetricType"], "$or": [{"metricId": [1234, 4321]}, {"spaceId": [1000, 2000, 3000]}]},
    ],
}
_OR_NESTED = {
    "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
    "detail": {
        "scope": ["Service"],
        "$or": [{"source": ["aws.cloudwatch"]}, {"type": ["CloudWatch Alarm State Change"]}],
    },
}

# subscription-filter-policy-constraints.html: the nested payload example (3 x 4 x 2 x 3 = 72 combinations).
_CONSTRAINTS_NESTED = {
    "key_a": {"key_b": {"key_c": ["value_one", "value_two", "value_three", "value_four"]}},
    "key_d": {"key_e": ["value_one", "value_two", "value_three"]},
}

# https://aws.amazon.com/blogs/compute/introducing-payload-based-message-filtering-for-amazon-sns/ (S3 events)
_S3_POLICY = {
    "Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}, "eventName": [{"prefix": "ObjectCreated:"}]}
}


def _s3_event(event_name: str, key: str) -> str:
    return body(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": event_name,
                    "s3": {"bucket": {"name": "insurance-bucket-demo"}, "object": {"key": key, "size": 17}},
                }
            ]
        }
    )


MATCH_CASES: list[tuple[dict, str, dict | str, bool]] = [
    # --- example-filter-policies.html ------------------------------------------------------------------------
    (_TXN_ACCEPT, ATTRS, _TXN_ATTRS, True),
    (_TXN_ACCEPT, BODY, _TXN_BODY, True),
    (_TXN_REJECT, ATTRS, _TXN_ATTRS, False),
    (_TXN_REJECT, BODY, _TXN_BODY, False),
    # --- and-or-logic.html: AND across keys, OR within a key's values, the "$or" operator --------------------
    (_AND, ATTRS, {"customer_interests": s("rugby"), "price_usd": n("150")}, True),
    (_AND, ATTRS, {"customer_interests": s("rugby"), "price_usd": n("100")}, False),
    (_AND, ATTRS, {"price_usd": n("150")}, False),
    (_AND, BODY, body({"customer_interests": "rugby", "price_usd": 101}), True),
    (_OR_VALUES, ATTRS, {"customer_interests": s("football")}, True),
    (_OR_VALUES, ATTRS, {"customer_interests": s("tennis")}, False),
    (_OR_VALUES, BODY, body({"customer_interests": "baseball"}), True),
    (_OR_STANDARD, ATTRS, {"source": s("aws.cloudwatch"), "metricName": s("CPUUtilization")}, True),
    (_OR_STANDARD, ATTRS, {"source": s("aws.cloudwatch"), "namespace": s("AWS/EC2")}, True),
    (_OR_STANDARD, ATTRS, {"source": s("aws.cloudwatch")}, False),
    (_OR_STANDARD, ATTRS, {"metricName": s("CPUUtilization"), "namespace": s("AWS/EC2")}, False),
    (_OR_STANDARD, BODY, body({"source": "aws.cloudwatch", "metricName": "CPUUtilization"}), True),
    (_OR_STANDARD, BODY, body({"source": "aws.cloudwatch", "namespace": "AWS/EC2"}), True),
    (_OR_STANDARD, BODY, body({"source": "aws.cloudwatch", "namespace": "AWS/ES"}), False),
    (_OR_INSIDE_OR, BODY, body({"source": "aws.cloudwatch", "metricName": "ReadLatency"}), True),
    (_OR_INSIDE_OR, BODY, body({"source": "aws.cloudwatch", "metricType": "MetricType", "spaceId": 2000}), True),
    (_OR_INSIDE_OR, BODY, body({"source": "aws.cloudwatch", "metricType": "MetricType"}), False),
    (_OR_INSIDE_OR, BODY, body({"source": "aws.cloudwatch", "metricType": "Other", "metricId": 1234}), False),
    (_OR_INSIDE_OR, ATTRS, {"source": s("aws.cloudwatch"), "metricType": s("MetricType"), "metricId": n("4321")}, True),
    (
        _OR_NESTED,
        BODY,
        body({"metricName": "CPUUtilization", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}),
        True,
    ),
    (
        _OR_NESTED,
        BODY,
        body({"namespace": "AWS/ES", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}),
        True,
    ),
    (_OR_NESTED, BODY, body({"metricName": "CPUUtilization", "detail": {"scope": "Service"}}), False),
    (
        _OR_NESTED,
        BODY,
        body({"metricName": "CPUUtilization", "detail": {"type": "CloudWatch Alarm State Change"}}),
        False,
    ),
    (_OR_NESTED, BODY, body({"metricName": "CPUUtilization", "scope": "Service", "source": "aws.cloudwatch"}), False),
    (
        _OR_NESTED,
        BODY,
        body({"namespace": "CPUUtilization", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}),
        False,
    ),
    # "$or" with fewer than two objects is an ordinary property name.
    ({"$or": ["x"]}, ATTRS, {"$or": s("x")}, True),
    ({"$or": ["x"]}, ATTRS, {"other": s("x")}, False),
    # --- attribute-key-matching.html: exists ------------------------------------------------------------------
    (
        {"store": [{"exists": True}]},
        ATTRS,
        {"store": s("fans"), "customer_interests": arr("baseball", "basketball")},
        True,
    ),
    ({"store": [{"exists": True}]}, ATTRS, {"customer_interests": arr("baseball", "basketball")}, False),
    (
        {"store": [{"exists": True}]},
        BODY,
        body({"store": "fans", "customer_interests": ["baseball", "basketball"]}),
        True,
    ),
    ({"store": [{"exists": True}]}, BODY, body({"customer_interests": ["baseball", "basketball"]}), False),
    (
        {"store": [{"exists": False}]},
        ATTRS,
        {"store": s("fans"), "customer_interests": arr("baseball", "basketball")},
        False,
    ),
    ({"store": [{"exists": False}]}, ATTRS, {"customer_interests": arr("baseball", "basketball")}, True),
    (
        {"store": [{"exists": False}]},
        BODY,
        body({"store": "fans", "customer_interests": ["baseball", "basketball"]}),
        False,
    ),
    ({"store": [{"exists": False}]}, BODY, body({"customer_interests": ["baseball", "basketball"]}), True),
    # "exists": false only matches if at least one attribute is present.
    ({"store": [{"exists": False}]}, ATTRS, {}, False),
    ({"store": [{"exists": False}]}, BODY, "{}", False),
    # "The key must have a non-null and non-empty value"; exists applies to leaf nodes only.
    ({"store": [{"exists": True}]}, BODY, body({"store": None}), False),
    ({"store": [{"exists": True}]}, BODY, body({"store": ""}), False),
    ({"store": [{"exists": True}]}, BODY, body({"store": {"name": "fans"}}), False),
    ({"store": {"name": [{"exists": True}]}}, BODY, body({"store": {"name": "fans"}}), True),
    # string-value-matching.html: anything-but "can be combined with "exists": false".
    ({"store": [{"anything-but": "fans"}, {"exists": False}]}, ATTRS, {"event": s("order_placed")}, True),
    ({"store": [{"anything-but": "fans"}, {"exists": False}]}, ATTRS, {"store": s("fans")}, False),
    ({"store": [{"anything-but": "fans"}, {"exists": False}]}, ATTRS, {"store": s("shop")}, True),
    # --- string-value-matching.html: exact ---------------------------------------------------------------------
    ({"customer_interests": ["rugby", "tennis"]}, ATTRS, {"customer_interests": s("rugby")}, True),
    ({"customer_interests": ["rugby", "tennis"]}, ATTRS, {"customer_interests": s("tennis")}, True),
    ({"customer_interests": ["rugby", "tennis"]}, ATTRS, {"customer_interests": arr("rugby", "tennis")}, True),
    ({"customer_interests": ["rugby", "tennis"]}, ATTRS, {"customer_interests": s("baseball")}, False),
    ({"customer_interests": ["rugby", "tennis"]}, ATTRS, {"customer_interests": arr("baseball")}, False),
    ({"customer_interests": ["rugby", "tennis"]}, BODY, body({"customer_interests": "rugby"}), True),
    ({"customer_interests": ["rugby", "tennis"]}, BODY, body({"customer_interests": "baseball"}), False),
    # filter-policy constraints: string matching is case-sensitive.
    ({"customer_interests": ["rugby", "tennis"]}, ATTRS, {"customer_interests": s("Rugby")}, False),
    # --- string-value-matching.html: anything-but --------------------------------------------------------------
    (
        {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
        ATTRS,
        {"customer_interests": s("baseball")},
        True,
    ),
    (
        {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
        ATTRS,
        {"customer_interests": s("football")},
        True,
    ),
    (
        {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
        ATTRS,
        {"customer_interests": arr("rugby", "baseball")},
        True,
    ),
    (
        {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
        BODY,
        body({"customer_interests": ["rugby", "baseball"]}),
        True,
    ),
    (
        {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
        BODY,
        body({"customer_interests": "football"}),
        True,
    ),
    ({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}, ATTRS, {"customer_interests": s("rugby")}, False),
    (
        {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
        ATTRS,
        {"customer_interests": arr("rugby")},
        False,
    ),
    (
        {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
        BODY,
        body({"customer_interests": ["rugby"]}),
        False,
    ),
    # An absent attribute does not match anything-but.
    ({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}, ATTRS, {"store": s("fans")}, False),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, ATTRS, {"event": s("data-entry")}, True),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, ATTRS, {"event": s("order_number")}, True),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, ATTRS, {"event": s("order-cancelled")}, False),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, BODY, body({"event": "data-entry"}), True),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, BODY, body({"event": "order-cancelled"}), False),
    (
        {"customer_interests": [{"anything-but": {"wildcard": "*ball"}}]},
        BODY,
        body({"customer_interests": ["hockey", "rugby", "soccer"]}),
        True,
    ),
    (
        {"customer_interests": [{"anything-but": {"wildcard": "*ball"}}]},
        BODY,
        body({"customer_interests": ["baseball", "basketball"]}),
        False,
    ),
    # --- string-value-matching.html: equals-ignore-case -------------------------------------------------------
    ({"customer_interests": [{"equals-ignore-case": "tennis"}]}, ATTRS, {"customer_interests": s("TENNIS")}, True),
    ({"customer_interests": [{"equals-ignore-case": "tennis"}]}, ATTRS, {"customer_interests": s("Tennis")}, True),
    ({"customer_interests": [{"equals-ignore-case": "tennis"}]}, BODY, body({"customer_interests": "TENNIS"}), True),
    ({"customer_interests": [{"equals-ignore-case": "tennis"}]}, BODY, body({"customer_interests": "teNnis"}), True),
    ({"customer_interests": [{"equals-ignore-case": "tennis"}]}, ATTRS, {"customer_interests": s("tenis")}, False),
    # --- string-value-matching.html: IP address matching (cidr) -----------------------------------------------
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, ATTRS, {"source_ip": s("10.0.0.0")}, True),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, ATTRS, {"source_ip": s("10.0.0.255")}, True),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, ATTRS, {"source_ip": s("10.1.1.0")}, False),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, BODY, body({"source_ip": "10.0.0.255"}), True),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, BODY, body({"source_ip": "10.1.1.0"}), False),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, ATTRS, {"source_ip": s("not-an-ip")}, False),
    ({"source_ip": [{"cidr": "2001:db8::/32"}]}, ATTRS, {"source_ip": s("2001:db8::1")}, True),
    ({"source_ip": [{"cidr": "2001:db8::/32"}]}, ATTRS, {"source_ip": s("2001:db9::1")}, False),
    ({"source_ip": [{"cidr": "2001:db8::/32"}]}, ATTRS, {"source_ip": s("10.0.0.1")}, False),
    # --- string-value-matching.html: prefix, suffix, wildcard -------------------------------------------------
    ({"customer_interests": [{"prefix": "bas"}]}, ATTRS, {"customer_interests": s("baseball")}, True),
    ({"customer_interests": [{"prefix": "bas"}]}, ATTRS, {"customer_interests": s("basketball")}, True),
    ({"customer_interests": [{"prefix": "bas"}]}, ATTRS, {"customer_interests": s("rugby")}, False),
    ({"customer_interests": [{"prefix": "bas"}]}, BODY, body({"customer_interests": "basketball"}), True),
    ({"customer_interests": [{"prefix": "bas"}]}, BODY, body({"customer_interests": "rugby"}), False),
    ({"customer_interests": [{"suffix": "ball"}]}, ATTRS, {"customer_interests": s("baseball")}, True),
    ({"customer_interests": [{"suffix": "ball"}]}, ATTRS, {"customer_interests": s("rugby")}, False),
    ({"customer_interests": [{"suffix": "ball"}]}, BODY, body({"customer_interests": "basketball"}), True),
    ({"customer_interests": [{"suffix": "ball"}]}, BODY, body({"customer_interests": "rugby"}), False),
    (
        {"customer_interests": [{"wildcard": "*ball"}]},
        BODY,
        body({"customer_interests": ["baseball", "basketball"]}),
        True,
    ),
    ({"customer_interests": [{"wildcard": "*ball"}]}, BODY, body({"customer_interests": ["rugby"]}), False),
    ({"customer_interests": [{"wildcard": "b*k*ball"}]}, ATTRS, {"customer_interests": s("basketball")}, True),
    ({"customer_interests": [{"wildcard": "b*k*ball"}]}, ATTRS, {"customer_interests": s("baseball")}, False),
    # numeric-value-matching.html: "Prefixes are supported for string matching only."
    ({"price": [{"prefix": "1"}]}, ATTRS, {"price": n("100")}, False),
    ({"price": [{"prefix": "1"}]}, BODY, body({"price": 100}), False),
    # --- numeric-value-matching.html: exact --------------------------------------------------------------------
    ({"price_usd": [{"numeric": ["=", 301.5]}]}, ATTRS, {"price_usd": n("301.5")}, True),
    ({"price_usd": [{"numeric": ["=", 301.5]}]}, ATTRS, {"price_usd": n("3.015e2")}, True),
    ({"price_usd": [{"numeric": ["=", 301.5]}]}, BODY, '{"price_usd": 301.5}', True),
    ({"price_usd": [{"numeric": ["=", 301.5]}]}, BODY, '{"price_usd": 3.015e2}', True),
    ({"price_usd": [{"numeric": ["=", 301.5]}]}, ATTRS, {"price_usd": n("301.6")}, False),
    # Numbers compare as numbers, with five digits of accuracy after the decimal point (constraints page).
    ({"price": [300]}, ATTRS, {"price": n("3.0e2")}, True),
    ({"price": [300]}, BODY, '{"price": 3.0e2}', True),
    ({"price": [300]}, BODY, '{"price": 300.000001}', True),
    ({"price": [300]}, BODY, '{"price": 300.0001}', False),
    # --- numeric-value-matching.html: anything-but -------------------------------------------------------------
    ({"price": [{"anything-but": [100, 500]}]}, ATTRS, {"price": n("101")}, True),
    ({"price": [{"anything-but": [100, 500]}]}, ATTRS, {"price": n("100.1")}, True),
    ({"price": [{"anything-but": [100, 500]}]}, BODY, body({"price": 101}), True),
    ({"price": [{"anything-but": [100, 500]}]}, BODY, body({"price": [100, 50]}), True),
    ({"price": [{"anything-but": [100, 500]}]}, ATTRS, {"price": n("100")}, False),
    ({"price": [{"anything-but": [100, 500]}]}, BODY, body({"price": 100}), False),
    ({"price": [{"anything-but": [100, 500]}]}, BODY, body({"price": [100, 500]}), False),
    # --- numeric-value-matching.html: ranges -------------------------------------------------------------------
    ({"price_usd": [{"numeric": ["<", 0]}]}, ATTRS, {"price_usd": n("-0.5")}, True),
    ({"price_usd": [{"numeric": ["<", 0]}]}, ATTRS, {"price_usd": n("0")}, False),
    ({"price_usd": [{"numeric": [">", 0, "<=", 150]}]}, ATTRS, {"price_usd": n("150")}, True),
    ({"price_usd": [{"numeric": [">", 0, "<=", 150]}]}, ATTRS, {"price_usd": n("0")}, False),
    ({"price_usd": [{"numeric": [">", 0, "<=", 150]}]}, ATTRS, {"price_usd": n("150.01")}, False),
    ({"price_usd": [{"numeric": [">", 0, "<=", 150]}]}, BODY, body({"price_usd": 75}), True),
    ({"price_usd": [{"numeric": [">=", 10, "<", 20]}]}, BODY, body({"price_usd": 10}), True),
    ({"price_usd": [{"numeric": [">=", 10, "<", 20]}]}, BODY, body({"price_usd": 20}), False),
    ({"price_usd": [{"numeric": ["<=", -5]}]}, BODY, body({"price_usd": -5}), True),
    # String.Array elements are compared one by one, numbers as numbers.
    ({"price_usd": [{"numeric": [">", 10]}]}, ATTRS, {"price_usd": arr(5, 20)}, True),
    ({"price_usd": [{"numeric": [">", 10]}]}, ATTRS, {"price_usd": arr(5, 6)}, False),
    # A numeric condition does not match a String attribute, nor a string condition a Number attribute.
    ({"price_usd": [{"numeric": [">", 100]}]}, ATTRS, {"price_usd": s("150")}, False),
    ({"price_usd": [150]}, ATTRS, {"price_usd": s("150")}, False),
    ({"price_usd": ["150"]}, ATTRS, {"price_usd": n("150")}, False),
    ({"price_usd": [{"numeric": [">", 100]}]}, BODY, body({"price_usd": "150"}), False),
    # DataType may carry a custom type label ("Number.float", "String.custom").
    ({"price_usd": [{"numeric": [">", 100]}]}, ATTRS, {"price_usd": n("150", "Number.float")}, True),
    ({"store": ["fans"]}, ATTRS, {"store": s("fans", "String.custom")}, True),
    # --- subscription-filter-policy-constraints.html: data types ----------------------------------------------
    # "Amazon SNS ignores message attributes with the Binary data type."
    ({"blob": [{"exists": True}]}, ATTRS, {"blob": b(b"\x00\x01")}, False),
    ({"blob": [{"exists": False}]}, ATTRS, {"blob": b(b"\x00\x01"), "store": s("fans")}, True),
    ({"blob": ["AAE="]}, ATTRS, {"blob": b(b"\x00\x01")}, False),
    # The policy may contain true, false and null (body: JSON values; a null never matches a missing key).
    ({"encrypted": [False]}, BODY, body({"encrypted": False}), True),
    ({"encrypted": [False]}, BODY, body({"encrypted": "false"}), False),
    ({"encrypted": [True]}, ATTRS, {"encrypted": arr(True)}, True),
    ({"key": [None]}, BODY, body({"key": None}), True),
    ({"key": [None]}, BODY, body({"other": 1}), False),
    ({"attr1": [None, {"anything-but": "whatever"}]}, ATTRS, {}, False),
    ({"attr1": [None, {"anything-but": "whatever"}]}, ATTRS, {"attr1": s("something")}, True),
    # Payload-based filtering: nested policies follow the body's nesting (constraints page example).
    (
        _CONSTRAINTS_NESTED,
        BODY,
        body({"key_a": {"key_b": {"key_c": "value_two"}}, "key_d": {"key_e": "value_one"}}),
        True,
    ),
    (_CONSTRAINTS_NESTED, BODY, body({"key_a": {"key_b": {"key_c": "value_two"}}, "key_d": {"key_e": "other"}}), False),
    (_CONSTRAINTS_NESTED, BODY, body({"key_a": {"key_c": "value_two"}, "key_d": {"key_e": "value_one"}}), False),
    # --- payload-based filtering (AWS Compute Blog, S3 events): arrays of objects match element-wise -----------
    (_S3_POLICY, BODY, _s3_event("ObjectCreated:Put", "auto-insurance-2314.xml"), True),
    (_S3_POLICY, BODY, _s3_event("ObjectRemoved:Delete", "auto-insurance-2314.xml"), False),
    (_S3_POLICY, BODY, _s3_event("ObjectCreated:Put", "home-insurance-2314.xml"), False),
    # message-filtering.html: body policies assume "the message payload is a well-formed JSON object".
    ({"store": ["fans"]}, BODY, "store=fans", False),
    ({"store": ["fans"]}, BODY, '["fans"]', False),
    ({"store": ["fans"]}, BODY, "null", False),
    ({"store": [{"exists": False}]}, BODY, "not json", False),
    # A MessageBody-scope policy looks at the body only, a MessageAttributes-scope policy at attributes only.
    ({"store": ["fans"]}, BODY, body({"store": "fans"}), True),
    ({"store": ["fans"]}, ATTRS, {"other": s("x")}, False),
]

_BIG = '{"key": ["' + "a" * (256 * 1024) + '"]}'

INVALID_POLICIES: list[tuple[dict | str, str, str]] = [
    # Not JSON, not an object, empty
    # Text that is not JSON: "failed to parse JSON." and the words of SNS's (Jackson) parser, with the location.
    (
        "not json",
        ATTRS,
        "FilterPolicy: failed to parse JSON. Unrecognized token 'not': was expecting (JSON String, Number, Array, "
        "Object or token 'null', 'true' or 'false')\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_"
        "LOCATION` disabled); line: 1, column: 4]",
    ),
    (
        "{invalidjson}",
        BODY,
        "FilterPolicy: failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to "
        "start field name\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, "
        "column: 2]",
    ),
    ('{"key": ["a" "b"]}', ATTRS, "Unexpected character ('\"' (code 34)): was expecting comma to separate Array"),
    ('{"key": ["a"]', ATTRS, "Unexpected end-of-input: expected close marker for Object"),
    ('{"key": [NaN]}', ATTRS, "Non-standard token 'NaN'"),
    ("[1, 2]", ATTRS, "Filter is not an object"),
    ('"text"', BODY, "Filter is not an object"),
    ({}, ATTRS, "Empty objects are not allowed"),
    ({"key": {}}, BODY, "Empty objects are not allowed"),
    # Policy shape
    ({"key": "value"}, ATTRS, '"key" must be an object or an array'),
    ({"key": 5}, BODY, '"key" must be an object or an array'),
    ({"key": []}, ATTRS, "Empty arrays are not allowed"),
    ({"key": [["value"]]}, ATTRS, "Match value must be String, number, true, false, or null"),
    ({"key": [{}]}, ATTRS, "Match expression name not found"),
    ({"key": [{"wrong-operator": True}]}, ATTRS, "Unrecognized match type wrong-operator"),
    ({"key": [{"suffix": "value", "prefix": "value2"}]}, ATTRS, "Only one key allowed in match expression"),
    # String operators
    ({"key": [{"suffix": 100}]}, ATTRS, "suffix match pattern must be a string"),
    ({"key": [{"suffix": None}]}, ATTRS, "suffix match pattern must be a string"),
    ({"key": [{"suffix": ["test", "test2"]}]}, ATTRS, "suffix match pattern must be a string"),
    ({"key": [{"prefix": 5}]}, BODY, "prefix match pattern must be a string"),
    ({"key": [{"equals-ignore-case": 5}]}, ATTRS, "equals-ignore-case match pattern must be a string"),
    ({"key": [{"wildcard": 5}]}, ATTRS, "wildcard match pattern must be a string"),
    ({"key": [{"wildcard": "a**b"}]}, ATTRS, "Consecutive wildcard characters"),
    ({"key": {"suffix": "value"}}, ATTRS, '"suffix" must be an object or an array'),
    # exists
    ({"key": [{"exists": None}]}, ATTRS, "exists match pattern must be either true or false."),
    ({"key": [{"exists": "no"}]}, ATTRS, "exists match pattern must be either true or false."),
    # numeric
    ({"key": [{"numeric": 5}]}, ATTRS, "Value of numeric must be an array."),
    ({"key": [{"numeric": []}]}, ATTRS, "Invalid member in numeric match: ]"),
    ({"key": [{"numeric": ["operator"]}]}, ATTRS, "Unrecognized numeric range operator: operator"),
    ({"key": [{"numeric": [1, "<="]}]}, ATTRS, "Invalid member in numeric match: 1"),
    ({"key": [{"numeric": ["=", "000"]}]}, ATTRS, "Value of equals must be numeric"),
    ({"key": [{"numeric": [">="]}]}, ATTRS, "Value of >= must be numeric"),
    ({"key": [{"numeric": ["<", 100, ">", 10]}]}, ATTRS, "Too many elements in numeric expression"),
    ({"key": [{"numeric": [">=", 1, ">", 2]}]}, ATTRS, "Bad numeric range operator: >"),
    ({"key": [{"numeric": [">", 3, "<", 1]}]}, ATTRS, "Bottom must be less than top"),
    ({"key": [{"numeric": [">", 3, "<", 3]}]}, ATTRS, "Bottom must be less than top"),
    ({"key": [{"numeric": [">", 20, "<="]}]}, ATTRS, "Value of <= must be numeric"),
    ({"key": [{"numeric": [">", 20, 30]}]}, ATTRS, "Bad value in numeric range: 30"),
    ({"key": [{"numeric": [">", 20, "test"]}]}, ATTRS, "Bad numeric range operator: test"),
    ({"key": [{"numeric": [">", "20", "<", "30"]}]}, ATTRS, "Value of > must be numeric"),
    ({"key": [{"numeric": [">", 20, "<", "30"]}]}, ATTRS, "Value of < must be numeric"),
    ({"key": [{"numeric": [">", 20, "<", 30, "<", 50]}]}, ATTRS, "Too many terms in numeric range expression"),
    ({"key": [{"numeric": ["=", 1], "prefix": "a"}]}, ATTRS, "Too many elements in numeric expression"),
    # Numbers range from -10^9 to 10^9 (constraints page)
    ({"key": [{"numeric": [">", 1000000001]}]}, ATTRS, "out of range"),
    ({"key": [{"numeric": [">", -1e10, "<", 0]}]}, BODY, "out of range"),
    ({"key": [2000000000]}, ATTRS, "out of range"),
    ({"key": [{"anything-but": [1, 1e12]}]}, ATTRS, "out of range"),
    # anything-but
    ({"key": [{"anything-but": {"wrong-operator": None}}]}, ATTRS, "Unsupported anything-but pattern: wrong-operator"),
    ({"key": [{"anything-but": {"exists": False}}]}, ATTRS, "Unsupported anything-but pattern: exists"),
    ({"key": [{"anything-but": {"suffix": "ball"}}]}, BODY, "Unsupported anything-but pattern: suffix"),
    ({"key": [{"anything-but": {"prefix": False}}]}, ATTRS, "prefix match pattern must be a string"),
    ({"key": [{"anything-but": {"prefix": ""}}]}, ATTRS, "Null prefix/suffix not allowed"),
    ({"key": [{"anything-but": True}]}, ATTRS, "Value of anything-but must be an array or single string/number value."),
    ({"key": [{"anything-but": None}]}, ATTRS, "Value of anything-but must be an array or single string/number value."),
    ({"key": [{"anything-but": [None]}]}, ATTRS, "Inside anything but list, start|null|boolean is not supported."),
    ({"key": [{"anything-but": [["a"]]}]}, ATTRS, "Inside anything but list, start|null|boolean is not supported."),
    ({"key": [{"anything-but": []}]}, ATTRS, "Empty arrays are not allowed"),
    # cidr
    ({"ip": [{"cidr": "10.0.0.0"}]}, ATTRS, "Malformed CIDR, one '/' required"),
    ({"ip": [{"cidr": "10.0.0.0/8/8"}]}, ATTRS, "Malformed CIDR, one '/' required"),
    ({"ip": [{"cidr": "10.0.0.0/abc"}]}, ATTRS, "Malformed CIDR, mask bits must be an integer"),
    ({"ip": [{"cidr": "10.0.0.300/24"}]}, ATTRS, "Nonstandard IP address: 10.0.0.300"),
    ({"ip": [{"cidr": "10.0.0.0/33"}]}, ATTRS, "Malformed CIDR, mask bits must be between 0 and 32"),
    ({"ip": [{"cidr": "2001:db8::/129"}]}, ATTRS, "Malformed CIDR, mask bits must be between 0 and 128"),
    ({"ip": [{"cidr": 10}]}, ATTRS, "match pattern must be a string"),
    # "$or" misuse (and-or-logic.html): anything but an array of two or more objects is a plain property name
    ({"$or": [{"a": ["x"]}]}, ATTRS, "Unrecognized match type a"),
    ({"$or": "x"}, ATTRS, '"$or" must be an object or an array'),
    ({"$or": [{"numeric": 123}, {"prefix": "abc"}]}, ATTRS, "Value of numeric must be an array."),
    ({"$or": [{"a": ["x"]}, {}]}, ATTRS, "Empty objects are not allowed"),
    ({"$or": []}, ATTRS, "Empty arrays are not allowed"),
    ({"$or": [{"a": ["x"]}, {"b": {"c": ["y"]}}]}, ATTRS, "does not support nested filter policy"),
    # Constraints: keys, complexity, nesting, size
    (
        {"a": [1], "b": [1], "c": [1], "d": [1], "e": [1], "f": [1]},
        ATTRS,
        "Filter policy can not have more than 5 keys",
    ),
    (
        {"a": {"x": [1]}, "b": [1], "c": [1], "d": [1], "e": [1], "f": [1]},
        BODY,
        "Filter policy can not have more than 5 keys",
    ),
    (
        {"a": [1], "b": [1], "c": [1], "$or": [{"d": [1], "e": [1], "f": [1]}, {"g": [1]}]},
        ATTRS,
        "Filter policy can not have more than 5 keys",
    ),
    ({"key": list(range(151))}, ATTRS, "Filter policy is too complex"),
    ({"a": [1, 2], "b": [1, 2], "c": [1, 2], "d": [1, 2], "e": list(range(10))}, ATTRS, "Filter policy is too complex"),
    # nested: 3 levels x 51 values = 153
    ({"a": {"b": {"c": list(range(51))}}}, BODY, "Filter policy is too complex"),
    # OR: the complexities of the branches add up: 100 + 51
    ({"$or": [{"a": list(range(100))}, {"b": list(range(51))}]}, ATTRS, "Filter policy is too complex"),
    (
        {"key": {"nested": ["value"]}},
        ATTRS,
        "Filter policy scope MessageAttributes does not support nested filter policy",
    ),
    (_BIG, ATTRS, "too large"),
    # Scope must be one of the two documented values
    ({"key": ["value"]}, "Everything", "FilterPolicyScope: Invalid value [Everything]"),
]

# Policies at the limits, which must be accepted.
VALID_POLICIES: list[tuple[dict, str]] = [
    ({"a": [1], "b": [1], "c": [1], "d": [1], "e": [1]}, ATTRS),
    ({"key": list(range(150))}, ATTRS),
    ({"a": list(range(10)), "b": list(range(5)), "c": [1, 2, 3]}, ATTRS),
    (_CONSTRAINTS_NESTED, BODY),  # 72
    (_OR_INSIDE_OR, ATTRS),  # 7
    (_OR_NESTED, BODY),  # 32
    ({"$or": [{"a": list(range(100))}, {"b": list(range(50))}]}, ATTRS),  # 150
    ({"a": [1], "b": [1], "c": [1], "d": [1], "$or": [{"e": [1]}, {"f": [1]}]}, ATTRS),  # 5 keys per branch
    ({"n": [{"numeric": [">=", -1000000000, "<=", 1000000000]}]}, ATTRS),
    ({"n": [{"numeric": ["=", 0.00001]}]}, BODY),
    ({"key": [{"anything-but": ["rugby", 100]}]}, ATTRS),
    ({"key": [{"anything-but": 100}]}, ATTRS),
    ({"key": ["v", 10, True, None, {"exists": False}]}, ATTRS),
    ({"ip": [{"cidr": "10.0.0.7/32"}, {"cidr": "::/0"}]}, ATTRS),
    ({"object.nested": ["string.value"]}, BODY),
]
