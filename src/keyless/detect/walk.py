"""Walking nested configuration (dicts, lists, strings) with the path and name of every string."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from keyless.detect.material import (
    KeyMaterial,
    decode_base64_text,
    find_real_key_ids,
    find_secrets,
    looks_like_secret_beside_key_id,
)

# Where a value sits: keys and list indexes from the document (or block) root.
Path = tuple[str | int, ...]

# Pairs like ECS {name, value}, CodeBuild {name, value, type}, Beanstalk {OptionName, Value}, tags
# {Key, Value}: the sibling field names the value.
_NAME_FIELDS = ("name", "Name", "OptionName", "optionName", "Key", "key")
_VALUE_FIELDS = ("value", "Value")
# Attributes whose strings may be a base64 script.
USER_DATA_NAMES = frozenset({"user_data", "user_data_base64", "UserData"})
MAX_DEPTH = 200


def iter_strings(value: Any, path: Path = (), name: str = "", depth: int = 0) -> Iterator[tuple[Path, str, str]]:
    """Yield (path, name, text) for every string, where name is the key or sibling name that labels it."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, str):
        yield path, name, value
    elif isinstance(value, Mapping):
        label = next((value[f] for f in _NAME_FIELDS if isinstance(value.get(f), str)), None)
        for key, item in value.items():
            if not isinstance(key, str):
                continue
            if key.startswith("Fn::"):  # CloudFormation intrinsics (If, Sub, Join...) keep the name above them
                item_name = name
            else:
                item_name = label if label is not None and key in _VALUE_FIELDS else key
            yield from iter_strings(item, (*path, key), item_name, depth + 1)
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        for index, item in enumerate(value):
            yield from iter_strings(item, (*path, index), name, depth + 1)


def find_key_material(value: Any, path: Path = (), label: str = "") -> list[tuple[Path, KeyMaterial]]:
    """Every access key ID, secret access key and session token under a value, with its path.

    `label` names a value whose name is not a key above it (a CloudFormation Parameter's Default).
    A secret-shaped string in the same map, list or environment block as a key ID is a secret access key
    whatever its name (see `sibling_group`).
    """
    found: list[tuple[Path, KeyMaterial]] = []
    groups_with_key_id: set[Path] = set()
    for where, name, text in iter_strings(value, path, label):
        texts = [text]
        if name in USER_DATA_NAMES or (where and where[-1] in USER_DATA_NAMES):
            decoded = decode_base64_text(text)
            if decoded is not None:
                texts.append(decoded)
        for candidate in texts:
            key_ids = find_real_key_ids(candidate)
            if key_ids:
                groups_with_key_id.add(sibling_group(where))
            found.extend((where, KeyMaterial("access-key-id", k)) for k in key_ids)
            found.extend((where, s) for s in find_secrets(candidate, name))
    if groups_with_key_id:
        found += _secrets_beside_key_ids(value, path, label, groups_with_key_id, {m.value for _, m in found})
    return found


def sibling_group(where: Path) -> Path:
    """The map, list or environment block a value belongs to, for pairing a secret with a key ID.

    A value in a name/value pair (`{name = "S3_KEY", value = "..."}`, `{Key: ..., Value: ...}`) belongs
    to the list of pairs, so the pairs of one ECS, CodeBuild or SAM environment are siblings; any
    other value belongs to the map or list that holds it. CloudFormation functions (`Fn::Sub`...) are
    not levels of their own.
    """
    while where and isinstance(where[-1], str) and where[-1].startswith("Fn::"):
        where = where[:-1]
    if where and where[-1] in _VALUE_FIELDS:
        where = where[:-1]
        if where and isinstance(where[-1], int):
            return where[:-1]
    return where[:-1]


def _secrets_beside_key_ids(value: Any, path: Path, label: str, groups: set[Path],
                            known: set[str]) -> list[tuple[Path, KeyMaterial]]:
    found: list[tuple[Path, KeyMaterial]] = []
    for where, _name, text in iter_strings(value, path, label):
        stripped = text.strip()
        if len(stripped) == 40 and stripped not in known and sibling_group(where) in groups \
                and looks_like_secret_beside_key_id(stripped):
            known.add(stripped)
            found.append((where, KeyMaterial("secret-access-key", stripped)))
    return found
