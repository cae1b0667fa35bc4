#!/usr/bin/env python3
"""Deterministic synthetic Backstage catalog for Greenroom's benchmarks.

Writes N entities of every built-in kind (Group, User, Domain, System, API,
Resource, Component, and scaffolder Templates) as multi-document YAML files of at
most ``--chunk`` entities each, grouped by kind (``components-000.yaml``, ...),
plus a root ``catalog-info.yaml`` holding Location entities with relative
``spec.targets``: one Location per data file (``--layout per-file``, default) or
one Location listing every file (``--layout single-location``).  Next to them,
``manifest.json`` says what a loader must end up with (entity and relation
counts) and gives name samples for query benchmarks.

    python bench/gen_catalog.py --n 100000 --out catalogs/n100k [--seed 1]
        [--chunk 2000] [--layout per-file|single-location]

The same (n, seed, chunk, layout) always gives byte-identical files.

How it stays fast and small at N = 1,000,000:

* Every entity's *name* is a pure function of (seed, kind, index), so any entity
  can refer to any other by index without a table of names in memory.  All other
  attributes come from one seeded ``random.Random`` stream per kind.
* YAML is written as text from templates (values are from controlled
  vocabularies; free text is double-quoted), streamed to the files.
* Relations are counted, not stored: every forward relation has exactly one
  reverse row, and the only spec fields that can state the same relation twice
  are a Group's ``parent``/``children`` and a Group's ``members`` against a User's
  ``memberOf``; those edges are counted once (see ``_Relations``).

Importable: ``generate(n, out, seed=1, chunk=2000, layout="per-file") -> manifest``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import sys
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

API_VERSION = "backstage.io/v1alpha1"
TEMPLATE_API_VERSION = "scaffolder.backstage.io/v1beta3"
ORG = "initech"
MAIL_DOMAIN = f"{ORG}.example"
MIN_N = 20

# Kind -> data file prefix, in the order files are listed in the manifest/Locations.
FILE_PREFIX = {
    "Group": "groups",
    "User": "users",
    "Domain": "domains",
    "System": "systems",
    "Resource": "resources",
    "API": "apis",
    "Component": "components",
    "Template": "templates",
}
KIND_ORDER = tuple(FILE_PREFIX)

# Share of N per kind; Component takes the rest (about 45.9 %).
KIND_SHARE = {
    "Domain": 0.002,
    "System": 0.02,
    "Group": 0.02,
    "User": 0.20,
    "API": 0.15,
    "Resource": 0.145,
    "Template": 0.003,
}
KIND_MIN = {"Domain": 1, "System": 1, "Group": 3, "User": 2, "API": 2, "Resource": 1, "Template": 1}

# ----------------------------------------------------------------------------
# vocabularies
# ----------------------------------------------------------------------------
BUSINESS_WORDS = (
    "payments", "billing", "checkout", "basket", "catalog", "search", "pricing",
    "stock", "shipping", "orders", "returns", "identity", "login", "accounts",
    "profiles", "notifications", "mailer", "sms", "push", "analytics", "reporting",
    "metrics", "ledger", "invoices", "tax", "fraud", "risk", "compliance", "audit",
    "recommendations", "ranking", "ads", "marketing", "campaigns", "loyalty",
    "coupons", "support", "tickets", "chat", "media", "images", "video",
    "transcoding", "playlists", "subscriptions", "partners", "onboarding", "geo",
    "maps", "routing", "scheduling", "calendar", "booking", "reviews", "ratings",
    "feeds", "social", "messaging", "gateway", "config", "feature-flags",
    "experiments", "forecasting", "warehouse", "ingest", "export", "translations",
    "consent", "sessions",
)  # fmt: skip
COMPONENT_TYPES = (("service", 0.55), ("website", 0.15), ("library", 0.30))
COMPONENT_SUFFIXES = {
    "service": ("service", "api", "worker", "backend", "consumer", "scheduler", "sync", "proxy"),
    "website": ("web", "frontend", "ui", "portal", "admin"),
    "library": ("lib", "sdk", "client", "utils", "models"),
}
LIFECYCLES = (("production", 0.6), ("experimental", 0.3), ("deprecated", 0.1))
API_TYPES = (("openapi", 0.6), ("grpc", 0.15), ("asyncapi", 0.15), ("graphql", 0.1))
API_NAME_SUFFIX = {"openapi": "api", "grpc": "grpc", "asyncapi": "events", "graphql": "graphql"}
RESOURCE_TYPES = (("database", 0.5), ("queue", 0.25), ("bucket", 0.25))
RESOURCE_NAME_SUFFIX = {"database": "db", "queue": "queue", "bucket": "bucket"}
RESOURCE_TAGS = {"database": "postgres", "queue": "kafka", "bucket": "s3"}
SYSTEM_SUFFIXES = ("platform", "system", "suite", "hub")
# Languages as tags (tag rule allows + and #) and as name-safe slugs.
LANGUAGES = (
    ("java", "java"), ("python", "python"), ("go", "go"), ("typescript", "ts"),
    ("kotlin", "kotlin"), ("rust", "rust"), ("scala", "scala"), ("ruby", "ruby"),
    ("c++", "cpp"), ("c#", "csharp"),
)  # fmt: skip
TAG_VOCAB = (
    "grpc", "rest", "graphql", "kafka", "postgres", "redis", "k8s", "serverless",
    "pci", "gdpr", "tier-1", "tier-2", "tier-3", "internal", "public", "legacy",
    "critical", "batch", "realtime", "ml", "team:platform", "cost:shared",
)  # fmt: skip
FIRST_NAMES = (
    "ada", "alan", "amara", "anil", "bea", "bo", "carla", "chidi", "dana", "diego",
    "eli", "esra", "farah", "finn", "gita", "gus", "hana", "ivan", "ines", "jon",
    "kemal", "kiri", "lars", "lena", "mai", "marek", "nadia", "nils", "olu", "pia",
    "quentin", "rosa", "ravi", "sara", "tariq", "tove", "uma", "vera", "wen", "yara",
    "zoe", "zane",
)  # fmt: skip
LAST_NAMES = (
    "abara", "bjork", "castillo", "dubois", "eriksen", "fischer", "gupta", "haddad",
    "ivanova", "jensen", "kim", "lopez", "mensah", "novak", "okafor", "petrov",
    "quinn", "rahman", "silva", "tanaka", "urban", "vogel", "walsh", "xiong", "young",
    "zeller", "moreau", "nakamura", "oconnor", "park",
)  # fmt: skip
DEPARTMENT_WORDS = (
    "platform", "infrastructure", "commerce", "growth", "data", "security", "mobile",
    "web", "content", "finance", "machine-learning", "core", "developer-experience",
    "reliability", "consumer", "enterprise", "partnerships", "media",
)  # fmt: skip
TEAM_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "cobalt", "crimson", "eager", "fuzzy", "gentle",
    "golden", "jolly", "keen", "lively", "mighty", "nimble", "quiet", "rapid", "silver",
    "steady", "witty",
)  # fmt: skip
TEAM_NOUNS = (
    "badgers", "bisons", "cranes", "dingos", "eagles", "ferrets", "geckos", "herons",
    "ibises", "jaguars", "kestrels", "lemurs", "marmots", "narwhals", "ocelots",
    "pelicans", "quokkas", "ravens", "salmon", "tapirs", "urchins", "walruses",
)  # fmt: skip
TEMPLATE_FLAVOURS = ("service", "website", "library", "worker", "docs")

# ----------------------------------------------------------------------------
# deterministic index -> attributes
# ----------------------------------------------------------------------------
_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """A 64-bit bijective mixer (murmur3 finalizer)."""
    x &= _M64
    x = ((x ^ (x >> 33)) * 0xFF51AFD7ED558CCD) & _M64
    x = ((x ^ (x >> 33)) * 0xC4CEB9FE1A85EC53) & _M64
    return x ^ (x >> 33)


def _thresholds(pairs: Sequence[tuple[str, float]]) -> tuple[tuple[int, str], ...]:
    """Cumulative 16-bit thresholds for picking a weighted value from hash bits."""
    acc = 0.0
    out = []
    for value, weight in pairs:
        acc += weight
        out.append((min(65536, round(acc * 65536)), value))
    out[-1] = (65536, out[-1][1])
    return tuple(out)


def _pick16(thresholds: tuple[tuple[int, str], ...], bits: int) -> str:
    for limit, value in thresholds:
        if bits < limit:
            return value
    return thresholds[-1][1]


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, float]]) -> str:
    r = rng.random()
    acc = 0.0
    for value, weight in pairs:
        acc += weight
        if r < acc:
            return value
    return pairs[-1][0]


def _word_name(words: Sequence[str], i: int) -> str:
    """words[i] while they last, then words[i % L]-2, words[i % L]-3, ... (unique)."""
    word = words[i % len(words)]
    return word if i < len(words) else f"{word}-{i // len(words) + 1}"


class Names:
    """Names of every entity, as pure functions of (seed, kind, index)."""

    _COMPONENT_T = _thresholds(COMPONENT_TYPES)
    _API_T = _thresholds(API_TYPES)
    _RESOURCE_T = _thresholds(RESOURCE_TYPES)

    def __init__(self, seed: int, counts: dict[str, int]) -> None:
        salts = {k: _mix((seed & _M64) * 0x9E3779B97F4A7C15 + j) for j, k in enumerate(KIND_ORDER)}
        self._salt_component = salts["Component"]
        self._salt_api = salts["API"]
        self._salt_resource = salts["Resource"]
        self._salt_user = salts["User"]
        n_groups = counts["Group"]
        n_depts = min(n_groups - 2, max(1, round(math.sqrt(n_groups - 1))))
        self.org = ORG
        self.departments = [_word_name(DEPARTMENT_WORDS, i) for i in range(n_depts)]
        self.teams = []
        for i in range(n_groups - 1 - n_depts):
            h = _mix(salts["Group"] + i)
            adj = TEAM_ADJECTIVES[h % len(TEAM_ADJECTIVES)]
            noun = TEAM_NOUNS[(h >> 16) % len(TEAM_NOUNS)]
            self.teams.append(f"team-{adj}-{noun}-{i}")
        self.domains = [_word_name(BUSINESS_WORDS, i) for i in range(counts["Domain"])]
        self.systems = []
        self.system_words = []
        for i in range(counts["System"]):
            h = _mix(salts["System"] + i)
            word = BUSINESS_WORDS[h % len(BUSINESS_WORDS)]
            suffix = SYSTEM_SUFFIXES[(h >> 16) % len(SYSTEM_SUFFIXES)]
            self.systems.append(f"{word}-{suffix}-{i}")
            self.system_words.append(word)

    def user(self, i: int) -> tuple[str, str, str]:
        h = _mix(self._salt_user + i)
        first = FIRST_NAMES[h % len(FIRST_NAMES)]
        last = LAST_NAMES[(h >> 16) % len(LAST_NAMES)]
        return f"{first}.{last}{i}", first, last

    def component(self, i: int) -> tuple[str, str, str, str]:
        """(name, type, business word, suffix)."""
        h = _mix(self._salt_component + i)
        ctype = _pick16(self._COMPONENT_T, h & 0xFFFF)
        word = BUSINESS_WORDS[(h >> 16) % len(BUSINESS_WORDS)]
        suffixes = COMPONENT_SUFFIXES[ctype]
        suffix = suffixes[(h >> 32) % len(suffixes)]
        return f"{word}-{suffix}-{i}", ctype, word, suffix

    def component_name(self, i: int) -> str:
        return self.component(i)[0]

    def api(self, i: int) -> tuple[str, str, str]:
        """(name, type, business word)."""
        h = _mix(self._salt_api + i)
        atype = _pick16(self._API_T, h & 0xFFFF)
        word = BUSINESS_WORDS[(h >> 16) % len(BUSINESS_WORDS)]
        return f"{word}-{API_NAME_SUFFIX[atype]}-{i}", atype, word

    def api_name(self, i: int) -> str:
        return self.api(i)[0]

    def resource(self, i: int) -> tuple[str, str, str]:
        """(name, type, business word)."""
        h = _mix(self._salt_resource + i)
        rtype = _pick16(self._RESOURCE_T, h & 0xFFFF)
        word = BUSINESS_WORDS[(h >> 16) % len(BUSINESS_WORDS)]
        return f"{word}-{RESOURCE_NAME_SUFFIX[rtype]}-{i}", rtype, word

    def resource_name(self, i: int) -> str:
        return self.resource(i)[0]


def plan_counts(n: int) -> dict[str, int]:
    """Entities per kind (without Locations); the values sum to exactly n."""
    if n < MIN_N:
        raise ValueError(f"n must be at least {MIN_N}")
    counts = {k: max(KIND_MIN[k], int(n * share + 0.5)) for k, share in KIND_SHARE.items()}
    counts["Component"] = n - sum(counts.values())
    return {k: counts[k] for k in KIND_ORDER}


# ----------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------
class _ChunkWriter:
    """Streams YAML documents of one kind into `<prefix>-NNN.yaml` files of <= chunk docs."""

    def __init__(self, out: Path, prefix: str, total: int, chunk: int) -> None:
        self.out = out
        self.prefix = prefix
        self.chunk = chunk
        self.width = max(3, len(str(max(0, math.ceil(total / chunk) - 1))))
        self.files: list[str] = []
        self._fh = None
        self._in_file = 0
        self._buf: list[str] = []

    def add(self, doc: str) -> None:
        if self._fh is None:
            name = f"{self.prefix}-{len(self.files):0{self.width}d}.yaml"
            self.files.append(name)
            self._fh = open(self.out / name, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._buf.append(doc)
        self._in_file += 1
        if len(self._buf) >= 500:
            self._fh.write("".join(self._buf))
            self._buf.clear()
        if self._in_file >= self.chunk:
            self._close_file()

    def _close_file(self) -> None:
        if self._fh is not None:
            self._fh.write("".join(self._buf))
            self._buf.clear()
            self._fh.close()
            self._fh = None
            self._in_file = 0

    def close(self) -> list[str]:
        self._close_file()
        return self.files


def _q(text: str) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _seq(items: Sequence[str], indent: str) -> str:
    return "".join(f"{indent}- {x}\n" for x in items)


def _block(text: str, indent: str) -> str:
    """The lines of a literal block scalar (`key: |` goes before it)."""
    return "".join(f"{indent}{line}\n" if line else "\n" for line in text.splitlines())


def _title(word: str) -> str:
    return word.replace("-", " ").title()


# ----------------------------------------------------------------------------
# API definitions (small, but real documents of their type)
# ----------------------------------------------------------------------------
def _camel(word: str) -> str:
    return "".join(p.capitalize() for p in word.split("-"))


def _openapi(rng: random.Random, title: str, word: str) -> str:
    one = word[:-1] if word.endswith("s") and len(word) > 3 else word
    path = word
    camel, one_camel = _camel(word), _camel(one)
    text = (
        "openapi: 3.0.3\n"
        "info:\n"
        f"  title: {title}\n"
        f"  version: 1.{rng.randrange(40)}.{rng.randrange(10)}\n"
        "paths:\n"
        f"  /{path}:\n"
        "    get:\n"
        f"      summary: List {word.replace('-', ' ')}\n"
        f"      operationId: list{camel}\n"
        "      responses:\n"
        '        "200":\n'
        f"          description: A page of {word.replace('-', ' ')}\n"
        "    post:\n"
        f"      summary: Create a new {one.replace('-', ' ')}\n"
        f"      operationId: create{one_camel}\n"
        "      responses:\n"
        '        "201":\n'
        "          description: Created\n"
        f"  /{path}/{{id}}:\n"
        "    get:\n"
        f"      operationId: get{one_camel}\n"
        "      parameters:\n"
        "        - name: id\n"
        "          in: path\n"
        "          required: true\n"
        "          schema:\n"
        "            type: string\n"
        "      responses:\n"
        '        "200":\n'
        f"          description: One {one.replace('-', ' ')}\n"
    )
    if rng.random() < 0.5:
        text += (
            "    delete:\n"
            f"      operationId: delete{one_camel}\n"
            "      responses:\n"
            '        "204":\n'
            "          description: Deleted\n"
        )
    return text


def _asyncapi(rng: random.Random, title: str, word: str) -> str:
    return (
        "asyncapi: 2.6.0\n"
        "info:\n"
        f"  title: {title}\n"
        f"  version: 1.{rng.randrange(20)}.0\n"
        "channels:\n"
        f"  {word}.changed:\n"
        "    subscribe:\n"
        "      message:\n"
        "        payload:\n"
        "          type: object\n"
        "          properties:\n"
        "            id:\n"
        "              type: string\n"
        "            occurredAt:\n"
        "              type: string\n"
        "              format: date-time\n"
    )


def _grpc(word: str) -> str:
    svc = _camel(word)
    return (
        'syntax = "proto3";\n'
        f"package {ORG}.{word.replace('-', '_')}.v1;\n"
        "\n"
        f"service {svc}Service {{\n"
        f"  rpc Get{svc}(Get{svc}Request) returns ({svc});\n"
        f"  rpc List{svc}(List{svc}Request) returns (stream {svc});\n"
        "}\n"
        "\n"
        f"message Get{svc}Request {{ string id = 1; }}\n"
        f"message List{svc}Request {{ int32 page_size = 1; }}\n"
        f"message {svc} {{ string id = 1; string name = 2; }}\n"
    )


def _graphql(word: str) -> str:
    t = _camel(word)
    field = word.replace("-", "_")
    return (
        f"type {t} {{\n  id: ID!\n  name: String\n  updatedAt: String\n}}\n"
        "\n"
        f"type Query {{\n  {field}(id: ID!): {t}\n  all_{field}(first: Int): [{t}!]!\n}}\n"
    )


# ----------------------------------------------------------------------------
# relation counting
# ----------------------------------------------------------------------------
REVERSE = {
    "ownedBy": "ownerOf",
    "partOf": "hasPart",
    "providesApi": "apiProvidedBy",
    "consumesApi": "apiConsumedBy",
    "dependsOn": "dependencyOf",
    "childOf": "parentOf",
    "memberOf": "hasMember",
}


class _Relations:
    """Counts distinct (source, type, target) rows without storing them.

    Each *edge* below is one forward relation plus its reverse row on the target,
    i.e. two distinct rows.  Within one source entity every forward relation is
    distinct by construction; across entities, two rows can only coincide when
    the same edge is stated from both ends (Group parent/children, Group
    members/User memberOf), and callers count such edges once.
    """

    def __init__(self) -> None:
        self.by_type: Counter[str] = Counter()

    def edges(self, forward: str, k: int = 1) -> None:
        if k:
            self.by_type[forward] += k
            self.by_type[REVERSE[forward]] += k

    def total(self) -> int:
        return sum(self.by_type.values())


# ----------------------------------------------------------------------------
# the generator
# ----------------------------------------------------------------------------
class _Generator:
    def __init__(self, n: int, out: Path, seed: int, chunk: int) -> None:
        self.n = n
        self.out = out
        self.seed = seed
        self.chunk = chunk
        self.counts = plan_counts(n)
        self.names = Names(seed, self.counts)
        self.rel = _Relations()
        self.files: dict[str, list[str]] = {}
        self.tag_counts: Counter[str] = Counter()
        self.word_counts: Counter[str] = Counter()
        self.n_teams = len(self.names.teams)
        self.n_depts = len(self.names.departments)
        # team index -> up to 3 users that declare memberOf it (listed again in `members`)
        self.team_members: list[list[int]] = [[] for _ in range(self.n_teams)]
        # user index -> its 1-2 team indices (-1 = none); two int32 per user
        self.user_teams = array("i", [-1]) * (2 * self.counts["User"])
        self.system_owner = array("i", [0]) * self.counts["System"]

    def rng(self, kind: str) -> random.Random:
        # str seeds are hashed with SHA-512: stable across runs and PYTHONHASHSEED.
        return random.Random(f"greenroom-bench:{self.seed}:{kind}")

    def writer(self, kind: str) -> _ChunkWriter:
        return _ChunkWriter(self.out, FILE_PREFIX[kind], self.counts[kind], self.chunk)

    def owner_ref(self, rng: random.Random, team: int) -> str:
        """A team as an owner ref; mostly bare names, sometimes with kind/namespace."""
        name = self.names.teams[team]
        r = rng.random()
        if r < 0.8:
            return name
        return f"group:{name}" if r < 0.9 else f"group:default/{name}"

    def pick_owner(self, rng: random.Random, system: int) -> int:
        """Mostly the owner of the entity's system, else any team."""
        if rng.random() < 0.7:
            return self.system_owner[system]
        return rng.randrange(self.n_teams)

    def tags(self, rng: random.Random, first: Sequence[str], k_max: int) -> list[str]:
        tags = list(dict.fromkeys(first))
        for _ in range(rng.randint(0, k_max)):
            t = TAG_VOCAB[rng.randrange(len(TAG_VOCAB))]
            if t not in tags:
                tags.append(t)
        self.tag_counts.update(tags)
        return tags

    # -- Users (before Groups: teams list some of their members) --------------
    def users(self) -> None:
        rng = self.rng("User")
        w = self.writer("User")
        n_teams = self.n_teams
        declared = 0
        for i in range(self.counts["User"]):
            name, first, last = self.names.user(i)
            t1 = rng.randrange(n_teams)
            teams = [t1]
            if rng.random() < 0.15 and n_teams > 1:
                t2 = rng.randrange(n_teams - 1)
                teams.append(t2 + 1 if t2 >= t1 else t2)
            for slot, t in enumerate(teams):
                self.user_teams[2 * i + slot] = t
                if len(self.team_members[t]) < 3:
                    self.team_members[t].append(i)
            declared += len(teams)
            display = f"{first.capitalize()} {last.capitalize()}"
            w.add(
                "---\n"
                f"apiVersion: {API_VERSION}\n"
                "kind: User\n"
                "metadata:\n"
                f"  name: {name}\n"
                "spec:\n"
                "  profile:\n"
                f"    displayName: {_q(display)}\n"
                f"    email: {name}@{MAIL_DOMAIN}\n"
                "  memberOf:\n" + _seq([self.names.teams[t] for t in teams], "    ")
            )
        self.rel.edges("memberOf", declared)
        self.files["User"] = w.close()

    # -- Groups ----------------------------------------------------------------
    def groups(self) -> None:
        rng = self.rng("Group")
        w = self.writer("Group")
        names = self.names
        n_users = self.counts["User"]
        group_only = 0  # `members` edges that no User states in its memberOf

        def doc(name, gtype, display, parent, children, members, description):
            parts = [
                "---\n",
                f"apiVersion: {API_VERSION}\n",
                "kind: Group\n",
                "metadata:\n",
                f"  name: {name}\n",
                f"  title: {_q(display)}\n",
                f"  description: {_q(description)}\n",
                "spec:\n",
                f"  type: {gtype}\n",
                "  profile:\n",
                f"    displayName: {_q(display)}\n",
                f"    email: {name}@{MAIL_DOMAIN}\n",
            ]
            if parent:
                parts.append(f"  parent: {parent}\n")
            parts.append(
                "  children:\n" + _seq(children, "    ") if children else "  children: []\n"
            )
            if members:
                parts.append("  members:\n" + _seq(members, "    "))
            w.add("".join(parts))

        depts, teams = names.departments, names.teams
        n_depts = len(depts)
        doc(
            names.org,
            "organization",
            f"{ORG.capitalize()} Inc.",
            None,
            depts,
            [],
            f"The whole of {ORG.capitalize()}.",
        )
        for d, dname in enumerate(depts):
            head = rng.randrange(n_users)  # users only declare teams: a group-side edge
            group_only += 1
            display = f"{_title(dname)} Department"
            doc(
                dname,
                "department",
                display,
                names.org,
                [teams[t] for t in range(d, len(teams), n_depts)],
                [names.user(head)[0]],
                f"The {_title(dname).lower()} department of {ORG.capitalize()}.",
            )
        for t, tname in enumerate(teams):
            members = list(self.team_members[t])
            if rng.random() < 0.25:  # a lead listed by the team; may or may not say memberOf
                lead = rng.randrange(n_users)
                if lead not in members:
                    members.append(lead)
                    if t not in (self.user_teams[2 * lead], self.user_teams[2 * lead + 1]):
                        group_only += 1
            display = _title(tname[len("team-") :].rsplit("-", 1)[0]).strip()
            doc(
                tname,
                "team",
                display,
                depts[t % n_depts],
                [],
                [names.user(u)[0] for u in members],
                f"{display} team in {_title(depts[t % n_depts]).lower()}.",
            )
        # Every non-root group is in its parent's `children` and names that parent.
        self.rel.edges("childOf", n_depts + len(teams))
        self.rel.edges("memberOf", group_only)
        self.team_members = []  # no longer needed
        self.files["Group"] = w.close()

    # -- Domains ----------------------------------------------------------------
    def domains(self) -> None:
        w = self.writer("Domain")
        depts = self.names.departments
        for i, name in enumerate(self.names.domains):
            word = BUSINESS_WORDS[i % len(BUSINESS_WORDS)]
            w.add(
                "---\n"
                f"apiVersion: {API_VERSION}\n"
                "kind: Domain\n"
                "metadata:\n"
                f"  name: {name}\n"
                f"  title: {_q(_title(word) + ' Domain')}\n"
                f"  description: {_q('Everything about ' + word.replace('-', ' ') + '.')}\n"
                "spec:\n"
                f"  owner: group:{depts[i % len(depts)]}\n"
            )
        self.rel.edges("ownedBy", self.counts["Domain"])
        self.files["Domain"] = w.close()

    # -- Systems ------------------------------------------------------------------
    def systems(self) -> None:
        rng = self.rng("System")
        w = self.writer("System")
        n_domains = self.counts["Domain"]
        for i, name in enumerate(self.names.systems):
            word = self.names.system_words[i]
            text, suffix = word.replace("-", " "), name.split("-")[-2]
            owner = rng.randrange(self.n_teams)
            self.system_owner[i] = owner
            domain = self.names.domains[rng.randrange(n_domains)]
            tags = self.tags(rng, [], 2)
            w.add(
                "---\n"
                f"apiVersion: {API_VERSION}\n"
                "kind: System\n"
                "metadata:\n"
                f"  name: {name}\n"
                f"  title: {_q(f'{_title(word)} {suffix.title()} {i}')}\n"
                f"  description: {_q(f'Services, APIs and storage for {text}.')}\n"
                + ("  tags:\n" + _seq(tags, "    ") if tags else "")
                + "spec:\n"
                f"  owner: {self.owner_ref(rng, owner)}\n"
                f"  domain: {domain}\n"
            )
        self.rel.edges("ownedBy", self.counts["System"])
        self.rel.edges("partOf", self.counts["System"])
        self.files["System"] = w.close()

    # -- Resources ----------------------------------------------------------------
    def resources(self) -> None:
        rng = self.rng("Resource")
        w = self.writer("Resource")
        names = self.names
        n_systems = self.counts["System"]
        n_deps = 0
        for i in range(self.counts["Resource"]):
            name, rtype, word = names.resource(i)
            text = word.replace("-", " ")
            system = rng.randrange(n_systems)
            owner = self.pick_owner(rng, system)
            dep = ""
            if i and rng.random() < 0.15:
                dep = f"  dependsOn:\n    - resource:{names.resource_name(rng.randrange(i))}\n"
                n_deps += 1
            tags = self.tags(rng, [RESOURCE_TAGS[rtype]], 1)
            w.add(
                "---\n"
                f"apiVersion: {API_VERSION}\n"
                "kind: Resource\n"
                "metadata:\n"
                f"  name: {name}\n"
                f"  description: {_q(f'{rtype.capitalize()} for {text}.')}\n"
                "  tags:\n" + _seq(tags, "    ") + "  annotations:\n"
                f"    backstage.io/source-location: {_q(f'url:https://github.com/{ORG}/infrastructure/tree/main/{word}/')}\n"
                "spec:\n"
                f"  type: {rtype}\n"
                f"  owner: {self.owner_ref(rng, owner)}\n"
                f"  system: {names.systems[system]}\n" + dep
            )
        self.rel.edges("ownedBy", self.counts["Resource"])
        self.rel.edges("partOf", self.counts["Resource"])
        self.rel.edges("dependsOn", n_deps)
        self.files["Resource"] = w.close()

    # -- APIs -------------------------------------------------------------------
    def apis(self) -> None:
        rng = self.rng("API")
        w = self.writer("API")
        names = self.names
        n_systems = self.counts["System"]
        for i in range(self.counts["API"]):
            name, atype, word = names.api(i)
            system = rng.randrange(n_systems)
            owner = self.pick_owner(rng, system)
            lifecycle = _weighted(rng, LIFECYCLES)
            title, text = f"{_title(word)} API", word.replace("-", " ")
            if atype == "openapi":
                definition = _openapi(rng, title, word)
            elif atype == "asyncapi":
                definition = _asyncapi(rng, f"{_title(word)} events", word)
            elif atype == "grpc":
                definition = _grpc(word)
            else:
                definition = _graphql(word)
            tags = self.tags(rng, [atype if atype != "openapi" else "rest"], 1)
            w.add(
                "---\n"
                f"apiVersion: {API_VERSION}\n"
                "kind: API\n"
                "metadata:\n"
                f"  name: {name}\n"
                f"  title: {_q(f'{title} {i}')}\n"
                f"  description: {_q(f'The {atype} interface of {text}.')}\n"
                "  tags:\n" + _seq(tags, "    ") + "spec:\n"
                f"  type: {atype}\n"
                f"  lifecycle: {lifecycle}\n"
                f"  owner: {self.owner_ref(rng, owner)}\n"
                f"  system: {names.systems[system]}\n"
                "  definition: |\n" + _block(definition, "    ")
            )
        self.rel.edges("ownedBy", self.counts["API"])
        self.rel.edges("partOf", self.counts["API"])
        self.files["API"] = w.close()

    # -- Components ---------------------------------------------------------------
    def components(self) -> None:
        rng = self.rng("Component")
        w = self.writer("Component")
        names = self.names
        n_comp, n_api = self.counts["Component"], self.counts["API"]
        n_res, n_systems = self.counts["Resource"], self.counts["System"]
        # Services provide the APIs (each at most once), ~90 % of them in all, in a
        # scattered order: API index = (cursor * stride) % n_api.
        share_services = dict(COMPONENT_TYPES)["service"]
        mean = min(2.0, 0.9 * n_api / max(1.0, share_services * n_comp))
        p2 = max(mean - 1.0, mean / 4)
        p1 = max(0.0, mean - 2 * p2)
        stride = 1_000_003
        while math.gcd(stride, n_api) != 1:
            stride += 2
        cursor = 0
        n_owned = n_part = n_provides = n_consumes = n_depends = 0
        for i in range(n_comp):
            name, ctype, word, suffix = names.component(i)
            self.word_counts[word] += 1
            system = rng.randrange(n_systems)
            owner = self.pick_owner(rng, system)
            lifecycle = _weighted(rng, LIFECYCLES)
            lang, lang_slug = LANGUAGES[rng.randrange(len(LANGUAGES))]
            tags = self.tags(rng, [lang], 2)
            parts = [
                "---\n",
                f"apiVersion: {API_VERSION}\n",
                "kind: Component\n",
                "metadata:\n",
                f"  name: {name}\n",
                f"  title: {_q(f'{_title(word)} {suffix.title()} {i}')}\n",
                f"  description: {_q(f'{_title(word)} {suffix} ({ctype}), written in {lang}.')}\n",
                "  tags:\n",
                _seq(tags, "    "),
                "  labels:\n",
                f'    tier: "{rng.randint(1, 3)}"\n',
                f"    cost-center: cc-{rng.randrange(100, 1000)}\n",
                f"    language: {lang_slug}\n",
                "  annotations:\n",
                f"    github.com/project-slug: {ORG}/{name}\n",
                f"    backstage.io/source-location: {_q(f'url:https://github.com/{ORG}/{name}/tree/main/')}\n",
            ]
            if ctype != "website" or rng.random() < 0.3:
                parts.append('    backstage.io/techdocs-ref: "dir:."\n')
            if ctype == "service":
                parts.append(f'    pagerduty.com/service-id: "P{rng.randrange(10**6, 10**7)}"\n')
            parts.append("  links:\n")
            parts.append(
                f'    - url: "https://github.com/{ORG}/{name}"\n      title: Repository\n      icon: github\n'
            )
            if ctype != "library":
                parts.append(
                    f'    - url: "https://grafana.{MAIL_DOMAIN}/d/{name}"\n      title: Dashboard\n      icon: dashboard\n'
                )
            parts += [
                "spec:\n",
                f"  type: {ctype}\n",
                f"  lifecycle: {lifecycle}\n",
                f"  owner: {self.owner_ref(rng, owner)}\n",
                f"  system: {names.systems[system] if rng.random() < 0.9 else 'system:' + names.systems[system]}\n",
            ]
            n_owned += 1
            n_part += 1
            if i and rng.random() < 0.03:
                parts.append(f"  subcomponentOf: {names.component_name(rng.randrange(i))}\n")
                n_part += 1
            provides: list[int] = []
            if ctype == "service":
                r = rng.random()
                k = 2 if r < p2 else 1 if r < p2 + p1 else 0
                while k and cursor < n_api:
                    provides.append((cursor * stride) % n_api)
                    cursor += 1
                    k -= 1
            if provides:
                parts.append(
                    "  providesApis:\n" + _seq([names.api_name(a) for a in provides], "    ")
                )
            consumes: list[int] = []
            for _ in range(rng.randint(0, 3)):
                a = rng.randrange(n_api)
                if a not in consumes and a not in provides:
                    consumes.append(a)
            if consumes:
                parts.append(
                    "  consumesApis:\n" + _seq([names.api_name(a) for a in consumes], "    ")
                )
            depends: list[str] = []
            for _ in range(rng.randint(0, 3)):
                if i and rng.random() < 0.6:
                    ref = f"component:{names.component_name(rng.randrange(i))}"
                else:
                    ref = f"resource:{names.resource_name(rng.randrange(n_res))}"
                if ref not in depends:
                    depends.append(ref)
            if depends:
                parts.append("  dependsOn:\n" + _seq(depends, "    "))
            n_provides += len(provides)
            n_consumes += len(consumes)
            n_depends += len(depends)
            w.add("".join(parts))
        self.rel.edges("ownedBy", n_owned)
        self.rel.edges("partOf", n_part)
        self.rel.edges("providesApi", n_provides)
        self.rel.edges("consumesApi", n_consumes)
        self.rel.edges("dependsOn", n_depends)
        self.files["Component"] = w.close()

    # -- Templates --------------------------------------------------------------
    def templates(self) -> None:
        rng = self.rng("Template")
        w = self.writer("Template")
        for i in range(self.counts["Template"]):
            lang, slug = LANGUAGES[i % len(LANGUAGES)]
            flavour = TEMPLATE_FLAVOURS[(i // len(LANGUAGES)) % len(TEMPLATE_FLAVOURS)]
            name = f"{slug}-{flavour}-template-{i}"
            ctype = {"worker": "service", "docs": "documentation"}.get(flavour, flavour)
            owner = rng.randrange(self.n_teams)
            tags = ["recommended", lang] if i < len(LANGUAGES) else [lang]
            self.tag_counts.update(tags)
            w.add(
                "---\n"
                f"apiVersion: {TEMPLATE_API_VERSION}\n"
                "kind: Template\n"
                "metadata:\n"
                f"  name: {name}\n"
                f"  title: {_q(f'{lang.capitalize()} {flavour} ({i})')}\n"
                f"  description: {_q(f'Create a new {lang} {flavour} with CI, docs and a catalog entry.')}\n"
                "  tags:\n" + _seq(tags, "    ") + "spec:\n"
                f"  owner: {self.owner_ref(rng, owner)}\n"
                f"  type: {ctype}\n"
                "  parameters:\n"
                "    - title: Provide some simple information\n"
                "      required:\n"
                "        - component_id\n"
                "        - owner\n"
                "      properties:\n"
                "        component_id:\n"
                "          title: Name\n"
                "          type: string\n"
                "          ui:field: EntityNamePicker\n"
                "        description:\n"
                "          title: Description\n"
                "          type: string\n"
                "        owner:\n"
                "          title: Owner\n"
                "          type: string\n"
                "          ui:field: OwnerPicker\n"
                "          ui:options:\n"
                "            catalogFilter:\n"
                "              kind: Group\n"
                "    - title: Choose a location\n"
                "      required:\n"
                "        - repoUrl\n"
                "      properties:\n"
                "        repoUrl:\n"
                "          title: Repository Location\n"
                "          type: string\n"
                "          ui:field: RepoUrlPicker\n"
                "          ui:options:\n"
                "            allowedHosts:\n"
                "              - github.com\n"
                "  steps:\n"
                "    - id: fetch\n"
                "      name: Fetch Skeleton\n"
                "      action: fetch:template\n"
                "      input:\n"
                f"        url: ./skeleton/{slug}-{flavour}\n"
                "        values:\n"
                '          name: "${{ parameters.component_id }}"\n'
                '          description: "${{ parameters.description }}"\n'
                '          owner: "${{ parameters.owner }}"\n'
                "    - id: publish\n"
                "      name: Publish\n"
                "      action: publish:github\n"
                "      input:\n"
                '        repoUrl: "${{ parameters.repoUrl }}"\n'
                '        description: "This is ${{ parameters.component_id }}"\n'
                "    - id: register\n"
                "      name: Register\n"
                "      action: catalog:register\n"
                "      input:\n"
                '        repoContentsUrl: "${{ steps.publish.output.repoContentsUrl }}"\n'
                "        catalogInfoPath: /catalog-info.yaml\n"
                "  output:\n"
                "    links:\n"
                "      - title: Repository\n"
                '        url: "${{ steps.publish.output.remoteUrl }}"\n'
            )
        self.rel.edges("ownedBy", self.counts["Template"])
        self.files["Template"] = w.close()

    # -- Locations ------------------------------------------------------------
    def locations(self, data_files: list[str], layout: str) -> int:
        if layout == "single-location":
            groups = [("bench-catalog", data_files)]
        else:
            groups = [(f"bench-{f.removesuffix('.yaml')}", [f]) for f in data_files]
        with open(self.out / "catalog-info.yaml", "w", encoding="utf-8", newline="\n") as fh:
            for name, files in groups:
                fh.write(
                    "---\n"
                    f"apiVersion: {API_VERSION}\n"
                    "kind: Location\n"
                    "metadata:\n"
                    f"  name: {name}\n"
                    f"  description: {_q(f'Synthetic catalog n={self.n} seed={self.seed}: {len(files)} file(s)')}\n"
                    "spec:\n"
                    "  targets:\n" + _seq([f"./{f}" for f in files], "    ")
                )
        return len(groups)

    def run(self, layout: str) -> dict:
        # Users before Groups (teams list members), Systems before what they own.
        self.users()
        self.groups()
        self.domains()
        self.systems()
        self.resources()
        self.apis()
        self.components()
        self.templates()
        data_files = [f for kind in KIND_ORDER for f in self.files[kind]]
        n_locations = self.locations(data_files, layout)
        return self.manifest(data_files, n_locations, layout)

    def manifest(self, data_files: list[str], n_locations: int, layout: str) -> dict:
        names = self.names
        total = self.rel.total()
        # Backstage serves, on each entity, the distinct (type, targetRef) rows whose
        # source is that entity; wait_ingested.py sums len(relations) over all served
        # entities.  Rows would be missing there only if their source were not served
        # (the reverse row of a dangling reference).  Every reference here resolves
        # by construction, so nothing is missing.
        reverse_rows_on_missing_entities = 0
        sample = random.Random(f"greenroom-bench:{self.seed}:samples")
        n_comp, n_users = self.counts["Component"], self.counts["User"]
        teams = names.teams
        top_words = [w for w, _ in sorted(self.word_counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        top_tags = [t for t, _ in sorted(self.tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        by_kind = dict(self.counts)
        by_kind["Location"] = n_locations
        return {
            "generator": "greenroom bench/gen_catalog.py",
            "format": 1,
            "n": self.n,
            "seed": self.seed,
            "chunk": self.chunk,
            "layout": layout,
            "root_file": "catalog-info.yaml",
            "files": data_files,
            "by_kind": by_kind,
            "expected_entities": self.n + n_locations,
            "expected_relations": total,
            "expected_relations_backstage": total - reverse_rows_on_missing_entities,
            "relations_by_type": dict(sorted(self.rel.by_type.items())),
            "sample_components": [
                names.component_name(i) for i in sample.sample(range(n_comp), min(200, n_comp))
            ],
            "sample_teams": [
                teams[i] for i in sample.sample(range(len(teams)), min(50, len(teams)))
            ],
            "sample_users": [
                names.user(i)[0] for i in sample.sample(range(n_users), min(50, n_users))
            ],
            "sample_tags": top_tags[:5],
            "fulltext_terms": [*top_words[:4], top_words[0][:4]],
            "notes": (
                "by_kind and expected_entities include the Location entities of root_file; a "
                "server that registers root_file itself adds its own Location (not counted). "
                "expected_relations counts distinct (source, type, target) rows, both directions; "
                "expected_relations_backstage is the sum of len(entity.relations) over served "
                "entities (what wait_ingested.py checks). They are equal here: every reference "
                "resolves."
            ),
        }


def _clean(out: Path) -> None:
    """Remove files a previous run wrote (only names this generator uses)."""
    prefixes = tuple(f"{p}-" for p in FILE_PREFIX.values())
    for p in out.iterdir():
        if p.is_file() and (
            p.name in ("catalog-info.yaml", "manifest.json")
            or (p.name.startswith(prefixes) and p.name.endswith(".yaml"))
        ):
            p.unlink()


def generate(
    n: int, out: Path, *, seed: int = 1, chunk: int = 2000, layout: str = "per-file"
) -> dict:
    """Write the catalog and manifest.json into `out` (created if missing); return the manifest."""
    if chunk < 1:
        raise ValueError("chunk must be >= 1")
    if layout not in ("per-file", "single-location"):
        raise ValueError(f"unknown layout {layout!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    manifest = _Generator(n, out, seed, chunk).run(layout)
    with open(out / "manifest.json", "w", encoding="utf-8", newline="\n") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, required=True, help=f"entities to generate (>= {MIN_N})")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=2000, help="max entities per YAML file")
    ap.add_argument(
        "--layout",
        choices=("per-file", "single-location"),
        default="per-file",
        help="catalog-info.yaml: one Location per data file, or one listing all files",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        manifest = generate(args.n, args.out, seed=args.seed, chunk=args.chunk, layout=args.layout)
    except ValueError as e:
        ap.error(str(e))
    elapsed = time.perf_counter() - t0
    summary = {
        k: manifest[k]
        for k in ("n", "seed", "layout", "by_kind", "expected_entities", "expected_relations")
    }
    summary["files"] = len(manifest["files"])
    summary["seconds"] = round(elapsed, 2)
    summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
