"""greenroom.yaml: defaults, env substitution, validation messages naming the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenroom.config import config_from_dict, load_config
from greenroom.errors import ConfigError


def test_empty_config_has_defaults_and_sqlite_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GREENROOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("GREENROOM_DATA_DIR", raising=False)
    file = tmp_path / "greenroom.yaml"
    file.write_text("")
    config = load_config(file)
    assert config.catalog.orphan_strategy == "delete"
    assert [r.allow for r in config.catalog.rules] == [["Component", "API", "Location"]]
    assert config.database_url == f"sqlite:///{tmp_path / '.greenroom' / 'greenroom.db'}"


def test_environment_substitution_and_database_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_HOST", "db.internal")
    file = tmp_path / "greenroom.yaml"
    file.write_text("database:\n  url: postgresql://gr@${DB_HOST}/${DB_NAME:-greenroom}\n")
    assert load_config(file).database_url == "postgresql://gr@db.internal/greenroom"
    monkeypatch.setenv("GREENROOM_DATABASE_URL", "sqlite:///elsewhere.db")
    assert load_config(file).database_url == "sqlite:///elsewhere.db"


def test_missing_environment_variable_names_the_key() -> None:
    with pytest.raises(
        ConfigError, match=r"database\.url: environment variable NOPE_NOT_SET is not set"
    ):
        config_from_dict({"database": {"url": "${NOPE_NOT_SET}"}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"catalog": {"rulez": []}}, "catalog.rulez: Extra inputs are not permitted"),
        ({"catalog": {"orphanStrategy": "sometimes"}}, "catalog.orphanStrategy"),
        (
            {"catalog": {"locations": [{"type": "file"}]}},
            "catalog.locations.0.target: Field required",
        ),
        ({"catalog": {"processingInterval": {"fortnights": 1}}}, "catalog.processingInterval"),
        ({"reading": {"allow": [{"hots": "x"}]}}, "reading.allow.0.hots"),
    ],
)
def test_bad_keys_are_named(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, source="greenroom.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("greenroom.yaml: ")


def test_processing_interval_accepts_backstage_durations() -> None:
    assert (
        config_from_dict(
            {"catalog": {"processingInterval": {"minutes": 2, "seconds": 30}}}
        ).catalog.processing_interval
        == 150
    )


def test_unreadable_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("catalog: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(broken)


# --- the `reading` section: exactly what ReadingPolicy reads, checked at load ---------


def test_reading_accepts_every_key_the_policy_reads() -> None:
    from greenroom.catalog.reading import ReadingPolicy

    section = {
        "allow": [{"host": "git.example", "paths": ["/org/"]}, {"host": "*.corp.example"}],
        "maxFileBytes": 1000,
        "timeoutSeconds": 3,
        "gitTimeoutSeconds": 42,
    }
    config = config_from_dict({"reading": section})
    assert config.reading.git_timeout_seconds == 42
    assert config.reading.allow[0].paths == ["/org/"]
    # What the engine hands to the readers is the same policy as the section itself.
    policy = ReadingPolicy.from_config(config.reading.model_dump(by_alias=True))
    assert policy == ReadingPolicy.from_config(section)
    assert policy.git_timeout_s == 42
    policy.check_url("https://git.example/org/repo.yaml")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"host": "https://x.com"}, "reading.allow.0.host: must be a host name"),
        ({"host": "a.*.com"}, "reading.allow.0.host: may only use a wildcard as a leading '*.'"),
        ({"host": "[::1"}, "reading.allow.0.host: unterminated IPv6 address"),
        ({"host": "x.com:port"}, "reading.allow.0.host: bad port"),
        ({"host": "x.com:99999"}, "reading.allow.0.host: bad port"),
        (
            {"host": "{x}"},
            "reading.allow.0.host: must be a host name with an optional port, got '{x}'",
        ),
        ({"host": ""}, "reading.allow.0.host: must be a non-empty string"),
        ({"host": 7}, "reading.allow.0.host: must be a non-empty string"),
        ({"host": "x.com", "paths": ["org/"]}, "reading.allow.0.paths: must be a list of paths"),
        ({"host": "x.com", "paths": "/org/"}, "reading.allow.0.paths: must be a list of paths"),
        ({"host": "x.com", "path": ["/org/"]}, "reading.allow.0.path: Extra inputs"),
    ],
)
def test_bad_reading_rules_fail_at_load_naming_the_key(rule: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict({"reading": {"allow": [rule]}}, source="greenroom.yaml")
    assert str(info.value).startswith(f"greenroom.yaml: {message}"), str(info.value)


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "EXAMPLE.com",
        "*.corp.example",
        "127.0.0.1:8080",
        "[::1]",
        "[::1]:8080",
        "::1",
        "bücher.example",
        "x.com:",
        "*.",
        "*",
        "a/b",
        "u@x.com",
        "x.com?",
        "a b",
        ":80",
        "[]",
    ],
)
def test_config_and_policy_agree_on_hosts(host: str) -> None:
    from greenroom.catalog.reading import ReadingPolicy

    try:
        ReadingPolicy.from_config({"allow": [{"host": host}]})
        policy_ok = True
    except ConfigError:
        policy_ok = False
    try:
        config_from_dict({"reading": {"allow": [{"host": host}]}})
        config_ok = True
    except ConfigError:
        config_ok = False
    assert policy_ok == config_ok


# --- environment variables ---------------------------------------------------------


def test_default_is_used_when_the_variable_is_unset_or_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GR_UNSET", raising=False)
    monkeypatch.setenv("GR_EMPTY", "")
    monkeypatch.setenv("GR_SET", "db")
    url = "${GR_UNSET:-a}/${GR_EMPTY:-b}/${GR_SET:-c}/[${GR_EMPTY}]/${GR_EMPTY:-}"
    assert config_from_dict({"database": {"url": url}}).database.url == "a/b/db/[]/"


def test_missing_variable_message_starts_with_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GR_NOT_SET", raising=False)
    file = tmp_path / "greenroom.yaml"
    file.write_text("database:\n  url: ${GR_NOT_SET}\n")
    with pytest.raises(ConfigError) as info:
        load_config(file)
    assert str(info.value) == f"{file}: database.url: environment variable GR_NOT_SET is not set"
    assert info.value.field == "database.url"


# --- only the documented keys ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"data_dir": "x"}, "data_dir"),
        ({"base_dir": "/etc"}, "base_dir"),
        ({"baseDir": "/etc"}, "baseDir"),
        ({"catalog": {"orphan_strategy": "keep"}}, "catalog.orphan_strategy"),
        ({"catalog": {"lease_seconds": 5}}, "catalog.lease_seconds"),
        ({"reading": {"max_file_bytes": 5}}, "reading.max_file_bytes"),
        ({"reading": {"git_timeout_seconds": 5}}, "reading.git_timeout_seconds"),
    ],
)
def test_snake_case_keys_and_base_dir_are_refused(data: dict, key: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"^greenroom\.yaml: {key}: Extra inputs are not permitted$"
    ):
        config_from_dict(data, source="greenroom.yaml")


def test_base_dir_is_set_by_code_only(tmp_path: Path) -> None:
    assert config_from_dict({}).base_dir == Path(".")
    config = config_from_dict({}, base_dir=tmp_path)
    assert config.base_dir == tmp_path
    config.base_dir = tmp_path / "elsewhere"
    assert config.base_dir == tmp_path / "elsewhere"
    assert "base_dir" not in config.model_dump() and "baseDir" not in config.model_dump(
        by_alias=True
    )
    # The dump is a valid configuration again (the demo catalog relies on this).
    assert config_from_dict(config.model_dump(by_alias=True)).data_dir == config.data_dir


def test_location_rules_refuse_locations() -> None:
    location = {
        "type": "file",
        "target": "x.yaml",
        "rules": [{"allow": ["User"], "locations": [{"type": "file", "target": "y.yaml"}]}],
    }
    with pytest.raises(ConfigError) as info:
        config_from_dict({"catalog": {"locations": [location]}}, source="greenroom.yaml")
    assert str(info.value).startswith(
        "greenroom.yaml: catalog.locations.0.rules.0.locations: not allowed"
    )
    del location["rules"][0]["locations"]
    config = config_from_dict({"catalog": {"locations": [location]}})
    assert config.catalog.locations[0].rules[0].allow == ["User"]


@pytest.mark.parametrize(
    ("catalog", "ok"),
    [
        ({"processingInterval": 30}, False),  # default leaseSeconds: 60
        ({"processingInterval": {"minutes": 1}, "leaseSeconds": 60}, False),
        ({"processingInterval": 5, "leaseSeconds": 10}, False),
        ({"processingInterval": 61}, True),
        ({"processingInterval": {"hours": 1}, "leaseSeconds": 3}, True),
        ({"leaseSeconds": 119}, True),
        ({"leaseSeconds": 120}, False),  # default processingInterval: 120
    ],
)
def test_processing_interval_must_be_longer_than_the_lease(catalog: dict, ok: bool) -> None:
    if ok:
        config_from_dict({"catalog": catalog})
        return
    with pytest.raises(ConfigError) as info:
        config_from_dict({"catalog": catalog}, source="greenroom.yaml")
    message = str(info.value)
    assert message.startswith("greenroom.yaml: catalog: processingInterval (")
    assert "must be longer than leaseSeconds (" in message
