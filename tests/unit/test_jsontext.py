"""JSON text of the database's JSON columns (crm/core/jsontext.py)."""

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from crm.core import jsontext


def test_dumps_writes_what_the_standard_library_reads_back():
    value = {"名称": "梧州市某科技有限公司", "n": [1, 2.5, None, True], "nested": {"a": []}}
    text = jsontext.dumps(value)
    assert json.loads(text) == value
    assert "梧州" in text  # UTF-8, not \\u escapes
    assert jsontext.loads(text) == value


def test_dumps_keeps_decimals_exact_and_dates_as_iso_text():
    text = jsontext.dumps(
        {"amount": Decimal("1234.50"), "on": date(2016, 5, 8), "at": datetime(2026, 1, 2, 3, 4)}
    )
    assert json.loads(text) == {
        "amount": "1234.50",
        "on": "2016-05-08",
        "at": "2026-01-02T03:04:00",
    }


def test_dumps_sorts_every_object_s_keys_when_asked():
    value = {"b": 1, "a": {"d": 2, "c": 3}}
    assert jsontext.dumps(value, sort_keys=True) == '{"a":{"c":3,"d":2},"b":1}'
    assert jsontext.dumps(value) == '{"b":1,"a":{"d":2,"c":3}}'


def test_dumps_writes_keys_that_are_not_text_as_text():
    assert json.loads(jsontext.dumps({3: "a", 10: "b"})) == {"3": "a", "10": "b"}


def test_dumps_refuses_what_json_cannot_hold():
    with pytest.raises(TypeError):
        jsontext.dumps({"a": object()})
