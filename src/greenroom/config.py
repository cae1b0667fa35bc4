"""Loading and validating `greenroom.yaml`.

The file has Backstage-like sections. It is read once at start, `${ENV}`
references are substituted, and the result is validated with pydantic so a
typo fails the start with a message naming the bad key (`catalog.rulez: Extra
inputs are not permitted`) instead of being silently ignored.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from greenroom.errors import ConfigError

CONFIG_ENV = "GREENROOM_CONFIG"
DATABASE_URL_ENV = "GREENROOM_DATABASE_URL"
DATA_DIR_ENV = "GREENROOM_DATA_DIR"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LocationConfig(_Section):
    type: str = Field(min_length=1)
    target: str = Field(min_length=1)
    rules: list[CatalogRule] | None = None


class RuleLocation(_Section):
    type: str
    target: str | None = None
    pattern: str | None = None


class CatalogRule(_Section):
    allow: list[str]
    locations: list[RuleLocation] | None = None


class CatalogConfig(_Section):
    locations: list[LocationConfig] = []
    rules: list[CatalogRule] = [CatalogRule(allow=["Component", "API", "Location"])]
    processing_interval: float = Field(default=120.0, alias="processingInterval", gt=0)
    orphan_strategy: Literal["delete", "keep"] = Field(default="delete", alias="orphanStrategy")
    batch_size: int = Field(default=1000, alias="batchSize", ge=1, le=20000)
    lease_seconds: float = Field(default=60.0, alias="leaseSeconds", gt=0)

    @field_validator("processing_interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> Any:
        # Backstage writes `processingInterval: { seconds: 100 }` or `{ minutes: 2 }`.
        if isinstance(value, dict):
            units = {"seconds": 1, "minutes": 60, "hours": 3600}
            unknown = set(value) - set(units)
            if unknown:
                raise ValueError(f"unknown duration unit {sorted(unknown)[0]!r}")
            return sum(float(value[k]) * units[k] for k in value)
        return value


class HostRule(_Section):
    host: str = Field(min_length=1)


class ReadingConfig(_Section):
    allow: list[HostRule] = []
    max_file_bytes: int = Field(default=10 * 1024 * 1024, alias="maxFileBytes", gt=0)
    timeout_seconds: float = Field(default=30.0, alias="timeoutSeconds", gt=0)


class DatabaseConfig(_Section):
    url: str | None = None


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=7007, ge=0, le=65535)


class Config(_Section):
    """The whole configuration; every section has defaults so an empty file is valid."""

    data_dir: Path = Field(default=Path(".greenroom"), alias="dataDir")
    database: DatabaseConfig = DatabaseConfig()
    server: ServerConfig = ServerConfig()
    catalog: CatalogConfig = CatalogConfig()
    reading: ReadingConfig = ReadingConfig()
    plugins: list[str] = []
    # The file this came from: relative `file` targets resolve against its folder.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @property
    def database_url(self) -> str:
        """The database URL: env override, then config, then a SQLite file in the data dir."""
        url = os.environ.get(DATABASE_URL_ENV) or self.database.url
        if url:
            return url
        return f"sqlite:///{(self.data_dir / 'greenroom.db').resolve()}"


def substitute_env(value: Any, path: str = "") -> Any:
    """Replace `${NAME}` and `${NAME:-default}` in every string; a missing variable is an error."""
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise ConfigError(f"{path or '<root>'}: environment variable {name} is not set", field=path)

        return _ENV_REF.sub(repl, value)
    if isinstance(value, dict):
        return {k: substitute_env(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, f"{path}.{i}") for i, v in enumerate(value)]
    return value


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "<root>"
        lines.append(f"{source}: {key}: {item['msg']}")
    return "\n".join(lines)


def config_from_dict(data: dict[str, Any] | None, *, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate an already-parsed config mapping."""
    data = substitute_env(data or {})
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
    if base_dir is not None:
        config.base_dir = base_dir
        if not config.data_dir.is_absolute():
            config.data_dir = base_dir / config.data_dir
    if os.environ.get(DATA_DIR_ENV):
        config.data_dir = Path(os.environ[DATA_DIR_ENV])
    return config


def load_config(path: str | Path | None = None) -> Config:
    """Load `greenroom.yaml` from `path`, `$GREENROOM_CONFIG`, or defaults when neither is given."""
    path = path or os.environ.get(CONFIG_ENV)
    if not path:
        return config_from_dict({}, base_dir=Path.cwd())
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: invalid YAML: {exc}") from None
    return config_from_dict(data, source=str(file), base_dir=file.resolve().parent)


LocationConfig.model_rebuild()
