"""The reviewed signals around an answer: question shapes, scope and handoff, read from data files."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from knowledge.handoff import HandoffRules, load_handoff_rules
from knowledge.lexicon import bundled_data_path
from knowledge.scope import ScopeRules, load_scope_rules


@dataclass(frozen=True, slots=True)
class AnswerKind:
    """A kind of thing asked (how long, how much, where to turn) and how a text that gives it reads."""

    name: str
    asks: re.Pattern[str]
    answers: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class QuestionShapes:
    """What kind of answer a question wants (`data/question_shapes.toml`)."""

    overview: re.Pattern[str]
    plan_itself: re.Pattern[str]
    asks_figure: re.Pattern[str]
    registered_in: re.Pattern[str]
    # A law's sanctions chapter (法律责任) restates its duties; it answers only questions on
    # what follows a breach (罚, 追究).
    sanction_heading: re.Pattern[str]
    asks_sanction: re.Pattern[str]
    # A clause that asks (吗, 能不能, 找谁), as against the background story before it.
    asks: re.Pattern[str]
    asking_words: frozenset[str]
    answer_kinds: tuple[AnswerKind, ...] = ()


@dataclass(frozen=True, slots=True)
class Signals:
    shapes: QuestionShapes
    scope: ScopeRules
    handoff: HandoffRules


def load_question_shapes(path: Path) -> QuestionShapes:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    names = (
        "overview",
        "plan_itself",
        "asks_figure",
        "registered_in",
        "sanction_heading",
        "asks_sanction",
        "asks",
    )
    try:
        patterns = {name: re.compile(str(data[name])) for name in names}
    except (KeyError, re.error) as error:
        raise ValueError(f"{path}: {error}") from error
    asking = data.get("asking_words", [])
    if not isinstance(asking, list) or not all(isinstance(w, str) for w in asking):
        raise ValueError(f"{path}: asking_words must list words")
    return QuestionShapes(
        **patterns, asking_words=frozenset(asking), answer_kinds=_answer_kinds(data, path)
    )


def _answer_kinds(data: dict[str, object], path: Path) -> tuple[AnswerKind, ...]:
    table = data.get("answer_kinds", {})
    if not isinstance(table, dict):
        raise ValueError(f"{path}: [answer_kinds] must be a table")
    kinds: list[AnswerKind] = []
    for name, kind in table.items():
        if not isinstance(kind, dict) or not {"asks", "answers"} <= kind.keys():
            raise ValueError(f"{path}: answer_kinds.{name} needs 'asks' and 'answers'")
        try:
            kinds.append(AnswerKind(name, re.compile(kind["asks"]), re.compile(kind["answers"])))
        except (re.error, TypeError) as error:
            raise ValueError(f"{path}: answer_kinds.{name}: {error}") from error
    return tuple(kinds)


def load_signals(directory: Path | None = None) -> Signals:
    """The bundled signals unless another directory with the same three files is given."""

    def path(name: str) -> Path:
        return directory / name if directory else bundled_data_path(name)

    return Signals(
        shapes=load_question_shapes(path("question_shapes.toml")),
        scope=load_scope_rules(path("scope.toml")),
        handoff=load_handoff_rules(path("handoff.toml")),
    )
