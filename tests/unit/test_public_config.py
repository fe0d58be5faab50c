"""signage.web.public: the hall facts the web pages may see, and nothing secret."""

from __future__ import annotations

import json

from signage.web.public import public_config


def test_carries_every_counter_agency_and_service(config):
    data = public_config(config)
    assert (len(data["agencies"]), len(data["counters"]), len(data["services"])) == (21, 21, 153)
    assert data["counters"][0] == {"number": 1, "name": "Loket 1", "agency": "DUKCAPIL"}
    skck = next(s for s in data["services"] if s["code"] == "POLRES-01")
    assert skck == {"code": "POLRES-01", "name": "SKCK Baru", "agency": "POLRES", "prefix": "E", "counters": [5]}
    assert data["queue"]["priority"] is True
    assert data["hall"]["timezone_label"] == "WIB"


def test_holds_no_token_and_no_file_path(config):
    text = json.dumps(public_config(config), ensure_ascii=False)
    for token in config.tokens:
        assert token.secret not in text and token.name not in text
    assert str(config.hub.journal) not in text
    assert "journal" not in text and "chime" not in text


def test_is_plain_json_data(config):
    data = public_config(config)
    assert json.loads(json.dumps(data)) == data
