"""greenroom.yaml: defaults, env substitution, validation messages naming the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenroom.config import config_from_dict, load_config
from greenroom.errors import ConfigError


def test_empty_config_has_defaults_and_sqlite_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GREENROOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("GREENROOM_DATA_DIR", raising=False)
    file = tmp_path / "greenroom.yaml"
    file.write_text("")
    config = load_config(file)
    assert config.catalog.orphan_strategy == "delete"
    assert [r.allow for r in config.catalog.rules] == [["Component", "API", "Location"]]
    assert config.database_url == f"sqlite:///{tmp_path / '.greenroom' / 'greenroom.db'}"


def test_environment_substitution_and_database_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_HOST", "db.internal")
    file = tmp_path / "greenroom.yaml"
    file.write_text("database:\n  url: postgresql://gr@${DB_HOST}/${DB_NAME:-greenroom}\n")
    assert load_config(file).database_url == "postgresql://gr@db.internal/greenroom"
    monkeypatch.setenv("GREENROOM_DATABASE_URL", "sqlite:///elsewhere.db")
    assert load_config(file).database_url == "sqlite:///elsewhere.db"


def test_missing_environment_variable_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"database\.url: environment variable NOPE_NOT_SET is not set"):
        config_from_dict({"database": {"url": "${NOPE_NOT_SET}"}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"catalog": {"rulez": []}}, "catalog.rulez: Extra inputs are not permitted"),
        ({"catalog": {"orphanStrategy": "sometimes"}}, "catalog.orphanStrategy"),
        ({"catalog": {"locations": [{"type": "file"}]}}, "catalog.locations.0.target: Field required"),
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
    assert config_from_dict({"catalog": {"processingInterval": {"minutes": 2, "seconds": 30}}}).catalog.processing_interval == 150


def test_unreadable_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("catalog: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(broken)
