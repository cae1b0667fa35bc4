"""`greenroom catalog validate` on a folder of bad and good files: one `path:line: Name: message` each."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

from .catalog.helpers import component, write
from .test_cli import greenroom

LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<name>\w+): (?P<message>.+)$")

API = """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: {name}
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: {target}
"""

BOMB = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: lol
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
"""


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_validate_reports_every_bad_file_and_nothing_for_good_ones(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    # good files: no output
    write(
        folder / "good" / "catalog-info.yaml", component("good") + "---\n" + component("also-good")
    )
    write(folder / "good" / "openapi.json", '{"openapi": "3.0.0"}\n')
    write(folder / "good" / "api.yaml", API.format(name="orders-api", target="./openapi.json"))
    # bad files
    broken = write(
        folder / "broken.yaml", component("fine") + "---\nmetadata:\n  name: x\n   bad: indent\n"
    )
    bomb = write(folder / "bomb.yaml", component("fine-too") + "---\n" + BOMB)
    not_map = write(folder / "not-a-map.yaml", "- a\n- b\n---\njust a string\n")
    fields = write(
        folder / "fields.yaml",
        component("Bad_Name!")
        + "---\n"
        + component("tagged").replace("name: tagged\n", "name: tagged\n  tags: [ok, Bad Tag]\n")
        + "---\n"
        + component("annotated").replace(
            "name: annotated\n", "name: annotated\n  annotations:\n    ok: fine\n    foo: 1\n"
        ),
    )
    spec = write(folder / "spec.yaml", component("numbered", owner="42"))
    unknown = write(
        folder / "unknown.yaml",
        component("future").replace("backstage.io/v1alpha1", "backstage.io/v9")
        + "---\napiVersion: backstage.io/v1alpha1\nmetadata:\n  name: kindless\n",
    )
    escape = write(folder / "escape.yaml", API.format(name="passwd-api", target="../../etc/passwd"))
    huge = folder / "huge.yaml"
    with huge.open("wb") as f:
        f.write(component("huge").encode())
        f.truncate(50 * 1024 * 1024)  # sparse: refused by size, never read

    result = greenroom("catalog", "validate", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    reported = [(Path(m["path"]), int(m["line"]), m["name"], m["message"]) for m in parsed if m]

    expected = [
        (broken, line_of(broken, "   bad: indent"), "InputError", "mapping values are not allowed"),
        (bomb, line_of(bomb, "f: &f ["), "InputError", "YAML bomb"),
        (not_map, 1, "InputError", "Expected object at root, got array"),
        (
            not_map,
            line_of(not_map, "just a string"),
            "InputError",
            "Expected object at root, got string",
        ),
        (fields, line_of(fields, "name: Bad_Name!"), "InputError", '"metadata.name" is not valid'),
        (fields, line_of(fields, "tags: [ok, Bad Tag]"), "InputError", '"tags.1" is not valid'),
        (
            fields,
            line_of(fields, "foo: 1"),
            "InputError",
            "/metadata/annotations/foo must be string",
        ),
        (spec, line_of(spec, "owner: 42"), "InputError", "/spec/owner must be string"),
        (
            unknown,
            line_of(unknown, "apiVersion: backstage.io/v9"),
            "InputError",
            "No processor recognized",
        ),
        (
            unknown,
            line_of(unknown, "name: kindless") - 2,
            "InputError",
            "must have required property 'kind'",
        ),
        (escape, line_of(escape, "definition:"), "NotAllowedError", "outside the location root"),
        (huge, 1, "InputError", "52428800 bytes, over the limit of 10485760 bytes"),
    ]
    for path, line, name, text in expected:
        hits = [r for r in reported if r[:3] == (path, line, name) and text in r[3]]
        assert len(hits) == 1, f"{path.name}:{line}: {name}: ...{text}... not in\n" + "\n".join(
            lines
        )
    assert len(reported) == len(expected), "\n".join(lines)
    assert not [r for r in reported if "good" in r[0].parts], lines
    assert f"{len(expected)} error(s)" in result.stderr


def test_validate_refuses_a_huge_file_without_reading_it(tmp_path: Path) -> None:
    """In process, to measure memory: the 50 MB file is refused by its size, never loaded."""
    from greenroom.catalog.lint import lint_paths
    from greenroom.config import config_from_dict

    write(tmp_path / "good.yaml", component("good"))
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    config = config_from_dict({"dataDir": str(tmp_path / "data")}, base_dir=tmp_path)
    lint_paths(
        [str(tmp_path / "good.yaml")], config
    )  # imports and schemas are not what is measured
    tracemalloc.start()
    try:
        problems, checked = lint_paths([str(tmp_path)], config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024, f"{peak} bytes allocated: the huge file was read"
    assert checked == 1
    assert [(p.path, p.line, p.message.split(":")[0]) for p in problems] == [
        (str(huge), None, "InputError")
    ]


def test_github_format_escapes_the_properties() -> None:
    from greenroom.catalog.lint import Problem

    problem = Problem("dir,a:b/100%\r\n.yaml", 3, "spec.a,b:c", "bad: 50%\r\nnext, line")
    assert problem.format("github") == (
        "::error file=dir%2Ca%3Ab/100%25%0D%0A.yaml,line=3,title=spec.a%2Cb%3Ac"
        "::bad: 50%25%0D%0Anext, line"
    )
    assert Problem("x.yaml", None, None, "m").format("github") == "::error file=x.yaml,line=1::m"


def test_github_format_on_a_file_whose_name_has_a_comma(tmp_path: Path) -> None:
    bad = write(tmp_path / "a,b.yaml", component("Bad Name"))
    result = greenroom("catalog", "validate", "--format", "github", str(bad))
    assert result.returncode == 1
    escaped = str(bad).replace(",", "%2C")
    assert result.stdout.startswith(
        f"::error file={escaped},line=4,title=metadata.name::InputError: "
    )
