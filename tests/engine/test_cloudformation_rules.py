"""The CloudFormation/SAM fixtures through the real cfn-lint and the real checkov, in process.

Expectations come from the fixtures, never from keyless's own output:

- a fixture is named `<slug>[-variant].yaml|json` after the rule it exercises;
- a resource whose logical ID starts with `Fail` fails that rule, any other resource (`Pass...`
  and helpers such as roles or users) fails no keyless rule at all;
- a resource that also fails other rules (a literal key in a Lambda variable is rule 8 *and*
  rule 3) says so in the template's own `Metadata: KeylessFixture: Fails: {LogicalId: [ID, ...]}`.

How a cfn-lint match maps to a resource: cfn-lint has no notion of a reported resource, only a path.
A match under `Resources/<Id>/...` belongs to `<Id>`; a match in a Parameter belongs to the resources
that use the parameter (`Ref`, or `${Name}` in a `Fn::Sub` that does not define Name itself); any
other match outside Resources (Mappings, Outputs, Metadata, the Description, an unused parameter)
belongs to the template's first resource, the only entity checkov can report such a value on.
Rule 9 (EK009) is reported on the access key whose secret leaks (the issue's wording), while
cfn-lint points at the leak itself (the output or the SSM parameter): the key is read from the
`GetAtt Key.SecretAccessKey` / `${Key.SecretAccessKey}` written at the match's path.

checkov: a keyless check that would PASS on an entity holding key material returns UNKNOWN
instead (checkov then drops the record) so that checkov never prints an unmasked code block. So a
Pass resource is asserted "not failed" everywhere, and "passed" only where it holds no key material.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode
from cfnlint.template import Template as CfnLintTemplate

from keyless.catalog import RULES, rule
from keyless.engines import run_cfn_lint, run_checkov
from keyless.rules import cloudformation_scope, runs_everywhere

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "rules"
TEMPLATES = sorted((p for p in FIXTURES.glob("*/cloudformation/*") if p.suffix in (".yaml", ".yml", ".json")),
                   key=lambda p: p.name)
CFN_RULES = [r for r in RULES if r.cfn_lint_id]
KEYLESS_IDS = {r.cfn_lint_id for r in CFN_RULES}
EVERYWHERE = {r.cfn_lint_id for r in CFN_RULES if runs_everywhere(r.slug)}  # rules 3 and 4: failures only
TEMPLATES_BY_NAME = {p.name: p for p in TEMPLATES}
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
TEMPLATE_SECTIONS = ("Parameters", "Mappings", "Outputs", "Globals", "Metadata", "Conditions", "Rules", "Description")

# Built-in cfn-lint errors a fixture is allowed to raise, by (file name, rule ID), with the reason.
# Fixtures stay valid CloudFormation: keep this empty unless a case cannot be written validly.
ALLOWED_BUILTIN_ERRORS: dict[tuple[str, str], str] = {
    ("credentials-in-compute-cfn-init-argument-list.yaml", "E3009"): (
        "AWS documents a cfn-init command as a string or an array of arguments; cfn-lint's schema accepts "
        "only the string, and keyless must still read the array form"
    ),
    ("credentials-in-compute-ssm-secure.yaml", "E1027"): (
        "CloudFormation takes ssm-secure references only in a fixed list of properties, none of them an "
        "environment variable; the issue still lists ssm-secure among the values that are not hardcoded"
    ),
}

# Which resource types each checkov check runs on, from the rule registry (None: every resource).
CHECK_SCOPE: dict[str, tuple[str, ...] | None] = {
    r.cfn_lint_id: None if runs_everywhere(r.slug) else cloudformation_scope(r.slug) for r in CFN_RULES
}
Pair = tuple[str, str]  # (cfn-lint rule ID, logical ID)


# --- reading the fixtures ------------------------------------------------------------------------


def _load(path: Path) -> Mapping[str, Any]:
    """The fixture as the engines judge it: `Fn::ForEach` loops expanded by cfn-lint's own transform
    (the resources a loop declares are the ones named Fail... or Pass...)."""
    template, errors = decode(str(path))
    assert template is not None, f"{path.name} does not parse: {errors}"
    if LANGUAGE_EXTENSIONS in str(template.get("Transform", "")):
        cfn = CfnLintTemplate(str(path), template)
        assert not cfn.transform(), f"{path.name}: cfn-lint cannot expand its loops"
        template = cfn.template
    return template


def _fixture_rule(path: Path) -> str:
    """The cfn-lint ID of the rule a fixture is named after."""
    stem = path.stem
    slugs = [r for r in CFN_RULES if stem == r.slug or stem.startswith(r.slug + "-")]
    assert len(slugs) == 1, f"{path.name} is not named after exactly one CloudFormation rule"
    return str(slugs[0].cfn_lint_id)


def _resources(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return dict(template.get("Resources") or {})


def expected_pairs(path: Path) -> set[Pair]:
    template = _load(path)
    resources = _resources(template)
    own = _fixture_rule(path)
    pairs = {(own, name) for name in resources if name.startswith("Fail")}
    extra = ((template.get("Metadata") or {}).get("KeylessFixture") or {}).get("Fails") or {}
    for name, ids in extra.items():
        assert name in resources, f"{path.name}: KeylessFixture names unknown resource {name}"
        assert set(ids) <= KEYLESS_IDS, f"{path.name}: unknown rule IDs {ids}"
        pairs |= {(i, name) for i in ids}
    return pairs


def pass_resources(path: Path) -> list[str]:
    return [name for name in _resources(_load(path)) if name.startswith("Pass")]


def _node(template: Any, path: list[Any]) -> Any:
    for part in path:
        template = template[part]
    return template


def _leaked_keys(template: Mapping[str, Any], value: Any) -> set[str]:
    """Access keys whose SecretAccessKey a value references (GetAtt or Sub), read from the fixture."""
    keys = {n for n, r in _resources(template).items() if r.get("Type") == "AWS::IAM::AccessKey"}
    text = json.dumps(value)
    found = set(re.findall(r'"Fn::GetAtt": \["(\w+)", "SecretAccessKey"\]', text))
    found |= set(re.findall(r"\$\{(\w+)\.SecretAccessKey\}", text))
    return found & keys


def parameter_users(template: Mapping[str, Any], parameter: str) -> list[str]:
    """Resources that refer to a parameter: `{"Ref": P}`, or `${P}` in a Sub that does not define P."""
    def refers(value: Any) -> bool:
        if isinstance(value, list):
            return any(refers(v) for v in value)
        if not isinstance(value, Mapping):
            return False
        if value.get("Ref") == parameter:
            return True
        sub = value.get("Fn::Sub")
        text, names = (sub[0], sub[1]) if isinstance(sub, list) and len(sub) == 2 else (sub, {})
        if isinstance(text, str) and f"${{{parameter}}}" in text and parameter not in names:
            return True
        return any(refers(v) for v in value.values())

    return [str(name) for name, body in _resources(template).items() if refers(body)]


def match_resources(template: Mapping[str, Any], rule_id: str, path: list[Any]) -> list[str]:
    """The resources a cfn-lint match is reported on by checkov (see the module docstring)."""
    if rule_id == "EK009":
        leaked = _leaked_keys(template, _node(template, path))
        assert len(leaked) == 1, f"EK009 at {path} should point at exactly one leaked key, found {leaked}"
        return [leaked.pop()]
    if path[0] == "Resources":
        return [str(path[1])]
    assert path[0] in TEMPLATE_SECTIONS, path
    users = parameter_users(template, str(path[1])) if path[0] == "Parameters" and len(path) > 1 else []
    return users or [next(iter(_resources(template)))]


# --- cfn-lint --------------------------------------------------------------------------------------


_lint_cache: dict[Path, list[Any]] = {}


def lint(path: Path) -> list[Any]:
    if path not in _lint_cache:
        _lint_cache[path] = run_cfn_lint(str(path))
    return _lint_cache[path]


def keyless_matches(path: Path) -> list[Any]:
    return [m for m in lint(path) if m.rule.id in KEYLESS_IDS]


def cfn_lint_pairs(path: Path) -> set[Pair]:
    template = _load(path)
    return {(m.rule.id, name) for m in keyless_matches(path) for name in match_resources(template, m.rule.id, list(m.path))}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_flags_exactly_the_fail_resources(path: Path) -> None:
    assert cfn_lint_pairs(path) == expected_pairs(path)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_fixture_is_valid_cloudformation_and_keyless_never_crashes(path: Path) -> None:
    errors = [
        f"{m.rule.id} line {m.linenumber}: {m.message}"
        for m in lint(path)
        if m.rule.id == "E0002"
        or (m.rule.id.startswith("E") and m.rule.id not in KEYLESS_IDS
            and (path.name, m.rule.id) not in ALLOWED_BUILTIN_ERRORS)
    ]
    assert not errors


def _value_text(lines: list[str], lineno: int) -> str:
    """The text of the node starting at a line: the line and every more-indented line after it."""
    first = lines[lineno - 1]
    indent = len(first) - len(first.lstrip())
    out = [first]
    for line in lines[lineno:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        out.append(line)
    text = "\n".join(out)
    decoded = []
    for blob in re.findall(r"[A-Za-z0-9+/]{40,}={0,2}", text):
        try:
            decoded.append(base64.b64decode(blob + "=" * (-len(blob) % 4)).decode("utf-8", "replace"))
        except ValueError:
            continue
    return "\n".join([text, *decoded])


# What the text at a value finding's position must show, per rule: proof the match points at the
# offending value and not at the resource.
_SHOWN_AT_VALUE = {
    "WK002": re.compile(r"UserName"),
    # a credential word, or the key material itself (a key ID, or a secret beside one, under any name)
    "EK008": re.compile(r"(?i)access|secret|session|token|credentials|UserData|SecretAccessKey"
                        r"|(?-i:A[KS]IA[A-Z0-9]{16})|(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    "EK009": re.compile(r"SecretAccessKey"),
}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_points_at_the_offending_value(path: Path) -> None:
    template = _load(path)
    lines = path.read_text().splitlines()
    resource_lines = {str(name): name.start_mark.line + 1 for name in template["Resources"]}
    for m in keyless_matches(path):
        where = f"{path.name}:{m.linenumber}:{m.columnnumber} {m.rule.id} {'/'.join(map(str, m.path))}"
        assert m.linenumber > 1 and m.columnnumber >= 1, where
        if m.path[0] == "Resources":
            assert m.linenumber != resource_lines[m.path[1]], f"{where} points at the resource, not the value"
        text = _value_text(lines, m.linenumber)[max(m.columnnumber - 1, 0):]
        if m.rule.id == "EK003":
            last4 = re.search(r"…([A-Z0-9]{4})", m.message)
            assert last4 and re.search(rf"(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{{12}}{last4.group(1)}", text), where
        elif m.rule.id == "EK004":
            first4 = re.search(r"(\S{4})… \(", m.message)
            assert first4 and first4.group(1) in text, where
        elif m.rule.id == "WK001" and m.path[-1] == "Status":
            assert "Status" in text, where
        elif m.rule.id in _SHOWN_AT_VALUE:
            assert _SHOWN_AT_VALUE[m.rule.id].search(text), where


SAM_GLOBALS_FIXTURES = {
    "credentials-in-compute-sam.yaml": "PARTNER_ACCESS_KEY",
    "hardcoded-access-key-id-sam.yaml": "UPLOADER_KEY_ID",
}


@pytest.mark.parametrize(("name", "variable"), SAM_GLOBALS_FIXTURES.items())
def test_sam_globals_are_reported_at_the_globals_line(name: str, variable: str) -> None:
    """Each function inheriting a value from Globals is reported, at the line where Globals sets it."""
    path = TEMPLATES_BY_NAME[name]
    lines = path.read_text().splitlines()
    resources_line = lines.index("Resources:") + 1
    inheriting = [n for n in _resources(_load(path)) if n.startswith("Fail") and "Inheriting" in n]
    assert len(inheriting) >= 2, "a Globals fixture needs two inheriting functions (cfn-lint merges equal matches)"
    for function in inheriting:
        found = [m for m in keyless_matches(path) if m.path[1] == function]
        assert found, f"{function}: the value inherited from Globals is not reported"
        for m in found:
            assert m.linenumber < resources_line, "an inherited value must be reported where Globals sets it"
            assert lines[m.linenumber - 1].strip().startswith(f"{variable}:")


def test_documentation_example_is_named_in_the_message() -> None:
    path = TEMPLATES_BY_NAME["hardcoded-access-key-id.yaml"]
    by_resource = {m.path[1]: m.message for m in keyless_matches(path) if m.rule.id == "EK003"}
    assert "documentation example" in by_resource["FailDocumentationExampleParameter"]
    assert "documentation example" not in by_resource["FailTaggedBucket"]


def _fixture_secrets(path: Path) -> set[str]:
    """Every 40-character secret and long token written in a fixture (mixed-case base64 runs)."""
    text = path.read_text()
    runs = re.findall(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40,}(?![A-Za-z0-9/+])", text)
    return {r for r in runs if any(c.islower() for c in r) and any(c.isupper() for c in r) and len(r) < 200}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_json_output(path: Path) -> None:
    from cfnlint.formatters import JsonFormatter

    from keyless.engines import cfn_lint_rules

    output = JsonFormatter().print_matches(lint(path), cfn_lint_rules(), None)
    entries = [e for e in json.loads(output) if e["Rule"]["Id"] in KEYLESS_IDS]
    assert len(entries) == len(keyless_matches(path))
    for entry in entries:
        assert entry["Rule"]["Source"] == rule(entry["Rule"]["Id"]).guideline
        assert entry["Location"]["Start"]["LineNumber"] > 1
        assert entry["Level"] in ("Error", "Warning")
    for secret in _fixture_secrets(path):
        assert secret not in output, f"a secret of {path.name} appears in cfn-lint's JSON output"


def test_cfn_lint_command_line_json(tmp_path: Path) -> None:
    """The real `cfn-lint -a keyless.cfn_lint --format json` (module mode) agrees with the in-process run.

    One process for every fixture: it proves the rules load by module name (a package that fails to
    re-export them loads zero rules, silently) and that no fixture secret reaches the output.
    """
    exe = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(exe), "--format", "json", "-a", "keyless.cfn_lint", "--", *map(str, TEMPLATES)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode & 2, "keyless E-level findings must set cfn-lint's error bit"
    found = {
        (Path(e["Filename"]).name, e["Rule"]["Id"], e["Location"]["Start"]["LineNumber"], e["Location"]["Start"]["ColumnNumber"])
        for e in json.loads(result.stdout) if e["Rule"]["Id"] in KEYLESS_IDS
    }
    expected = {(p.name, m.rule.id, m.linenumber, m.columnnumber) for p in TEMPLATES for m in keyless_matches(p)}
    assert found == expected
    for path in TEMPLATES:
        for secret in _fixture_secrets(path):
            assert secret not in result.stdout + result.stderr, f"a secret of {path.name} appears in cfn-lint's output"


# --- checkov ---------------------------------------------------------------------------------------


class CheckovResults(dict[str, dict[str, set[Pair]]]):
    """Failed and passed pairs per file name, with a short repr so a failure shows only its own file."""

    def __repr__(self) -> str:
        return f"<checkov results for {len(self)} files>"


@pytest.fixture(scope="session")
def checkov_records() -> CheckovResults:
    """One in-process checkov run over the whole folder: failed and passed pairs per file name."""
    out = CheckovResults({p.name: {"failed": set(), "passed": set()} for p in TEMPLATES})
    for report in run_checkov(str(FIXTURES), frameworks=["cloudformation"]):
        for resource in report.resources:  # "<file path>:<resource ID>" for every resource checkov read
            out.setdefault(Path(resource.split(":", 1)[0]).name, {"failed": set(), "passed": set()})["read"] = set()
        for outcome, records in (("failed", report.failed_checks), ("passed", report.passed_checks)):
            for record in records:
                name = Path(record.file_path).name
                logical_id = record.resource.rsplit(".", 1)[-1]
                out.setdefault(name, {"failed": set(), "passed": set()})[outcome].add(
                    (str(rule(record.check_id).cfn_lint_id), logical_id))
    return out


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_checkov_fails_exactly_the_fail_resources(path: Path, checkov_records: dict[str, Any]) -> None:
    assert checkov_records[path.name]["failed"] == expected_pairs(path)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_checkov_passes_the_pass_resources(path: Path, checkov_records: dict[str, Any]) -> None:
    template = _load(path)
    own = _fixture_rule(path)
    expected = expected_pairs(path)
    holds_key_material = {name for rule_id, name in expected if rule_id in ("EK003", "EK004")}
    scope = CHECK_SCOPE[own]
    failed, passed = checkov_records[path.name]["failed"], checkov_records[path.name]["passed"]
    for name in pass_resources(path):
        assert not {(i, n) for i, n in failed if n == name} - expected, f"{name} fails a keyless check"
        in_scope = scope is None or _resources(template)[name].get("Type") in scope
        if in_scope and name not in holds_key_material and not runs_everywhere(rule(own).slug):
            assert (own, name) in passed, f"checkov has no passing {own} record for {name}"
        if runs_everywhere(rule(own).slug):  # rules 3 and 4 report failures only
            assert not {(i, n) for i, n in passed if i == own}, f"{own} reported a pass"


def test_checkov_scanned_every_fixture(checkov_records: dict[str, Any]) -> None:
    assert set(checkov_records) == {p.name for p in TEMPLATES}
    unread = [name for name, r in checkov_records.items() if "read" not in r]
    assert not unread, f"checkov read no resource of {unread}"
    silent = [name for name, r in checkov_records.items() if not r["failed"] and not r["passed"]]
    # a template whose resources only pass rules 3 and 4 gets no record: those rules report failures only
    assert all(_fixture_rule(TEMPLATES_BY_NAME[name]) in EVERYWHERE for name in silent), silent


# --- parity ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_checkov_and_cfn_lint_flag_the_same_pairs(path: Path, checkov_records: dict[str, Any]) -> None:
    assert checkov_records[path.name]["failed"] == cfn_lint_pairs(path)


def test_every_cloudformation_rule_has_failing_and_passing_fixtures() -> None:
    failing = {rule_id for p in TEMPLATES for rule_id, _ in expected_pairs(p)}
    passing = {_fixture_rule(p) for p in TEMPLATES if pass_resources(p)}
    json_rules = {_fixture_rule(p) for p in TEMPLATES if p.suffix == ".json"}
    assert failing == KEYLESS_IDS
    assert passing == KEYLESS_IDS
    assert json_rules == KEYLESS_IDS


def test_logical_ids_show_intent() -> None:
    """Logical IDs are alphanumeric (CloudFormation forbids underscores) and say Fail or Pass."""
    for path in TEMPLATES:
        names = list(_resources(_load(path)))
        assert all(re.fullmatch(r"[A-Za-z0-9]+", n) for n in names), path.name
        assert any(n.startswith("Fail") for n in names) or any(n.startswith("Pass") for n in names), path.name
