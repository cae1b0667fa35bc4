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
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from greenroom.catalog.reading.policy import check_host, check_path_prefixes
from greenroom.errors import ConfigError

CONFIG_ENV = "GREENROOM_CONFIG"
DATABASE_URL_ENV = "GREENROOM_DATABASE_URL"
DATA_DIR_ENV = "GREENROOM_DATA_DIR"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Section(BaseModel):
    # Only the documented (camelCase) keys are accepted: no `populate_by_name`, so a
    # snake_case spelling such as `data_dir` is an unknown key, like any typo.
    model_config = ConfigDict(extra="forbid")


def _error(message: str) -> PydanticCustomError:
    """A validation error whose text is shown as it is (no "Value error, " prefix)."""
    return PydanticCustomError("greenroom_config", message)


class LocationRule(_Section):
    """A rule under one `catalog.locations` entry: it applies to that location only."""

    allow: list[str]
    # Not a setting: present so that `locations:` here gets its own message instead of
    # being mistaken for a `catalog.rules` entry whose locations are honoured.
    locations: Any = Field(default=None, exclude=True)

    @field_validator("locations", mode="before")
    @classmethod
    def _no_locations(cls, value: Any) -> Any:
        raise _error(
            "not allowed in the rules of a location entry: they apply to what that location "
            "brings in; put rules that name locations in catalog.rules"
        )


class LocationConfig(_Section):
    type: str = Field(min_length=1)
    target: str = Field(min_length=1)
    rules: list[LocationRule] | None = None


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
    batch_size: int = Field(default=2500, alias="batchSize", ge=1, le=20000)
    lease_seconds: float = Field(default=60.0, alias="leaseSeconds", gt=0)
    # Location types POST /locations accepts. `file` would let API callers read the
    # server's disk, so, as in Backstage, only `url` unless the operator says so.
    allowed_location_types: list[Literal["url", "file", "git"]] = Field(
        default=["url"], alias="allowedLocationTypes"
    )
    default_location_conflict_strategy: Literal["reject", "refresh"] = Field(
        default="reject", alias="defaultLocationConflictStrategy"
    )
    readonly: bool = False

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

    @model_validator(mode="after")
    def _interval_longer_than_lease(self) -> CatalogConfig:
        # `worker --until-idle` and `catalog import` count as pending every entity due
        # within one lease; with a shorter interval, something is always due.
        if self.processing_interval <= self.lease_seconds:
            raise _error(
                f"processingInterval ({self.processing_interval:g} seconds) must be longer than "
                f"leaseSeconds ({self.lease_seconds:g} seconds): otherwise every entity is due "
                "again within one lease and `worker --until-idle` and `catalog import` never finish"
            )
        return self


class HostRule(_Section):
    """One `reading.allow` entry; checked by the same code as `ReadingPolicy.from_config`."""

    host: str
    paths: list[str] | None = None

    @field_validator("host", mode="before")
    @classmethod
    def _host(cls, value: Any) -> Any:
        try:
            return check_host(value)
        except ValueError as e:
            raise _error(str(e)) from None

    @field_validator("paths", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        if value is None:
            return value
        try:
            return list(check_path_prefixes(value))
        except ValueError as e:
            raise _error(str(e)) from None


class ReadingConfig(_Section):
    """Exactly the keys `ReadingPolicy.from_config` reads."""

    allow: list[HostRule] = []
    max_file_bytes: int = Field(default=10 * 1024 * 1024, alias="maxFileBytes", gt=0)
    timeout_seconds: float = Field(default=30.0, alias="timeoutSeconds", gt=0)
    git_timeout_seconds: float = Field(default=300.0, alias="gitTimeoutSeconds", gt=0)


class DatabaseConfig(_Section):
    url: str | None = None


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=7007, ge=0, le=65535)
    # Request bodies above this are refused with 413 before they are read.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, alias="maxBodyBytes", gt=0)


class AppConfig(_Section):
    # Shown in the header and the browser tab, as Backstage's `app.title`.
    title: str = Field(default="Greenroom", min_length=1, max_length=80)


class Config(_Section):
    """The whole configuration; every section has defaults so an empty file is valid."""

    data_dir: Path = Field(default=Path(".greenroom"), alias="dataDir")
    app: AppConfig = AppConfig()
    database: DatabaseConfig = DatabaseConfig()
    server: ServerConfig = ServerConfig()
    catalog: CatalogConfig = CatalogConfig()
    reading: ReadingConfig = ReadingConfig()
    plugins: list[str] = []
    # The folder of the file this came from: relative `file` targets resolve against it.
    # Private, so it can't be set from the file; set by `config_from_dict(base_dir=...)`.
    _base_dir: Path = PrivateAttr(default_factory=lambda: Path("."))

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @base_dir.setter
    def base_dir(self, value: Path) -> None:
        self._base_dir = Path(value)

    @property
    def database_url(self) -> str:
        """The database URL: env override, then config, then a SQLite file in the data dir."""
        url = os.environ.get(DATABASE_URL_ENV) or self.database.url
        if url:
            return url
        return f"sqlite:///{(self.data_dir / 'greenroom.db').resolve()}"


def substitute_env(value: Any, path: str = "") -> Any:
    """Replace `${NAME}` and `${NAME:-default}` in every string, with shell semantics.

    `${NAME:-default}` gives `default` when NAME is unset or empty; `${NAME}` gives
    the value (possibly empty), and is an error when NAME is unset.
    """
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            current = os.environ.get(name)
            if default is not None:
                return current or default
            if current is not None:
                return current
            raise ConfigError(
                f"{path or '<root>'}: environment variable {name} is not set", field=path
            )

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


def config_from_dict(
    data: dict[str, Any] | None, *, source: str = "<config>", base_dir: Path | None = None
) -> Config:
    """Validate an already-parsed config mapping; every error message starts with `source: `."""
    try:
        data = substitute_env(data or {})
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}", field=exc.field) from None
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
