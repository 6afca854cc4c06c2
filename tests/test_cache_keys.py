"""The hot cache's version names come from each app's ``cache_keys`` module, never a literal:
a name misspelt at a write or a read would leave a page silently stale."""

from __future__ import annotations

import ast
from pathlib import Path

from apps.accounts import cache_keys as account_keys
from apps.experiments import cache_keys as experiment_keys
from apps.photos import cache_keys as photo_keys

APPS = Path(__file__).resolve().parent.parent / "apps"


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _version_names(call: ast.Call) -> list[ast.AST]:
    """The arguments of ``call`` that name versions, if it is a hot cache call."""
    name = getattr(call.func, "attr", getattr(call.func, "id", ""))
    names: list[ast.AST] = []
    if name in ("bump", "version"):
        names += call.args
    if name in ("warm_response",) and len(call.args) > 2:
        names.append(call.args[2])
    for keyword in call.keywords:
        if keyword.arg == "versions":
            names.append(keyword.value)
    if name == "cached_anonymous_page" and call.args and isinstance(call.args[0], ast.Lambda):
        names.append(call.args[0].body)
    flat: list[ast.AST] = []
    for node in names:
        flat += node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
    return flat


def test_no_version_name_is_written_as_a_literal():
    found = []
    for path in APPS.rglob("*.py"):
        if "migrations" in path.parts or path.name == "cache_keys.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                found += [
                    f"{path.relative_to(APPS)}:{name.lineno}"
                    for name in _version_names(node)
                    if _literal(name)
                ]
            if isinstance(node, ast.FunctionDef) and node.name in (
                "cache_versions",
                "viewer_versions",
            ):
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.List):
                        found += [
                            f"{path.relative_to(APPS)}:{elt.lineno}"
                            for elt in ret.value.elts
                            if _literal(elt)
                        ]
    assert found == []


def test_the_names_are_distinct_and_keep_their_stored_form():
    names = [
        photo_keys.PHOTOS,
        photo_keys.SCORES,
        photo_keys.photo(42),
        photo_keys.likes(7),
        account_keys.follows(7),
        experiment_keys.SNAPSHOT,
    ]
    assert names == ["photos", "scores", "photo:42", "likes:7", "follows:7", "experiments"]
