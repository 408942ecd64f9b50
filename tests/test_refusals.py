"""Refusals in the caller's language (issue 18): every refusal that names a clause of
UE-10-22 is a constant template (`kuzet.errors.Phrase`) held by the Kazakh, Russian and
English catalogs with the same placeholders, and the API says it in the language the
caller chose, Kazakh unless another, with the English detail beside it."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import string
from pathlib import Path

import kuzet
from kuzet.errors import KuzetError, Phrase
from kuzet.web.errors import answer
from kuzet.web.i18n import LANGUAGES, catalog

SRC = Path(kuzet.__file__).parent
NAMES_A_CLAUSE = re.compile(r"UE-10-22 [\d{]|\bclauses? [\d{]")


def _kinds() -> set[str]:
    """The names of every error kind a person can cause, found by importing the package."""
    for module in pkgutil.walk_packages([str(SRC)], "kuzet."):
        if ".migrations." not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found, todo = set(), [KuzetError]
    while todo:
        kind = todo.pop()
        found.add(kind.__name__)
        todo.extend(kind.__subclasses__())
    return found


def _said_where() -> list[tuple[str, ast.expr]]:
    """Every first argument of a Phrase or of an error kind, with where it is."""
    kinds = _kinds() | {"Phrase"}
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = (node.func.id if isinstance(node.func, ast.Name)
                    else node.func.attr if isinstance(node.func, ast.Attribute) else "")
            if name in kinds:
                found.append((f"{path.relative_to(SRC)}:{node.lineno} {name}", node.args[0]))
    return found


def _parts(node: ast.AST) -> list[ast.AST]:
    """`node` and what it is made of, short of calls (a Phrase inside is checked itself)."""
    found, todo = [], [node]
    while todo:
        n = todo.pop()
        found.append(n)
        todo.extend(c for c in ast.iter_child_nodes(n) if not isinstance(c, ast.Call))
    return found


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def test_every_refusal_naming_a_clause_is_a_template_in_all_three_catalogs() -> None:
    said = _said_where()
    assert len(said) > 100
    made_up, templates = [], {}
    for where, arg in said:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            if "Phrase" in where or NAMES_A_CLAUSE.search(arg.value):
                templates[arg.value] = where
        elif any(isinstance(part, ast.Constant) and NAMES_A_CLAUSE.search(str(part.value))
                 for part in _parts(arg)):
            made_up.append(where)  # an f-string or a sum: no catalog can hold it
    assert not made_up, f"refusals naming a clause built at run time: {made_up}"
    assert len(templates) >= 50
    for lang in LANGUAGES:
        messages = catalog(lang)
        missing = [w for t, w in templates.items() if t not in messages]
        assert not missing, f"{lang}.po lacks the refusals of {missing}"
        for template, where in templates.items():
            translated = messages[template]
            assert _fields(translated) == _fields(template), (lang, where, translated)
            if lang != "en" and NAMES_A_CLAUSE.search(template):
                assert translated != template, (lang, where)  # said, not copied
                # the clause's number stays, whatever the language
                for number in re.findall(r"\d+\.\d+(?:\.\d+)*", template):
                    assert number in translated, (lang, where, number)


def test_a_phrase_is_said_again_with_its_values_and_nested_phrases() -> None:
    inner = Phrase("{perm} is not given to {user}", perm="archive.view", user="guard")
    outer = Phrase("refused: {reason} (UE-10-22 {clauses})", reason=inner, clauses="3.5.4")
    assert outer == "refused: archive.view is not given to guard (UE-10-22 3.5.4)"
    russian = catalog("ru")
    said = outer.said(lambda t: russian.get(t, t))
    assert said == "отказано: archive.view не дано пользователю guard (UE-10-22 3.5.4)"
    # a catalog that slipped (a placeholder it lacks) says the refusal in English instead
    assert outer.said(lambda t: "{nothing}") == str(outer)
    # braces in a message without values are text, not placeholders
    assert Phrase("a {literal} brace").said(lambda t: t) == "a {literal} brace"


def test_a_refusal_worded_clause_first_carries_its_clause_too() -> None:
    body = answer(Phrase("clause 3.5.6: a request is reasoned; state its reason"), "ru")
    assert body["clause"] == "3.5.6"
    assert body["refusal"] == "Отказано по пункту 3.5.6 положения UE-10-22"
    assert body["message"] == "п. 3.5.6: запрос должен быть мотивированным; укажите его причину"
    assert answer(Phrase("clauses 3.5.4, 4.2: two people"), "en")["clause"] == "3.5.4, 4.2"
    assert "clause" not in answer("no camera named 'x'", "kk")


def test_a_name_supplied_by_the_caller_never_sets_the_clause() -> None:
    """Issue 18 review: the clause is read in the refusal's own words, not in a value."""
    named = Phrase("no camera named {name}", name="'clause 3.3: x'")
    assert "clause" not in answer(named, "ru")
    nested = Phrase("refused: {reason} (UE-10-22 {clauses})",
                    reason=Phrase("{perm} is not given to {user}", perm="archive.view",
                                  user="clause 9.9: me"), clauses="3.5.4")
    assert answer(nested, "en")["clause"] == "3.5.4"
