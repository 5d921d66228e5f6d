"""The answer engine: a worker's question → the clauses that answer it, ranked, with a decision.

normalize → correct sound-alike typos → tokenise and expand synonyms → score (BM25 over the
clause fields, rapidfuzz for typo-tolerant phrase spotting) → decide (answer, two close
candidates, or an honest fallback) and flag a handoff when someone describes their own dispute.
Everything expensive happens in `Matcher.__init__`; `match` does no I/O and logs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from knowledge.answerability import Evidence, is_unanswered_elsewhere, lacks_evidence
from knowledge.coverage import FOCUS_FACTOR, ContentReader
from knowledge.curation import Curation, Topic, topic_family
from knowledge.document import Document
from knowledge.handoff import is_handoff
from knowledge.index import (
    ClauseIndex,
    FeatureCache,
    IndexedClause,
    heading_heights,
    indexed_clauses,
)
from knowledge.lexicon import Lexicon
from knowledge.normalizer import Normalizer, ScriptConverter
from knowledge.phonetic import PhoneticCorrector
from knowledge.query import QueryReader
from knowledge.scope import check_scope
from knowledge.signals import Signals, load_signals
from knowledge.tokenizer import Tokenizer

# A heading answers only questions that ask for an overview: per level of clauses below it,
# its score is scaled by HEADING_FACTOR, or for an overview question by OVERVIEW_FACTOR.
HEADING_FACTOR = 0.55
OVERVIEW_FACTOR = (1.6, 1.0)
# Two clauses this close are offered both.
AMBIGUITY_RATIO = 0.9
MAX_RANKED = 5
# The best-scoring clauses re-ranked by how much of the question they explain.
SHORTLIST = 12
COVERAGE_FLOOR = 0.1
COVERAGE_EXPONENT = 1.0
# The other kind of text (plan ↔ law) on the same matter is offered second from this share of the
# best score: a law's rule with Tianjin's promise, Tianjin's promise with the law's rule.
COMPANION_RATIO = 0.3
# Runners-up rank on what the best clause leaves unexplained plus this share of their own score.
RESIDUAL_SHARE = 0.25
# Information (as in coverage) the best clause must leave unexplained to be a second subject.
RESIDUAL_MIN_INFORMATION = 1.0
# A second source beside a dispute's answer explains at least this share of what the answer does.
SAME_ASK = 0.95
# Lexicon words join jieba's dictionary at a modest frequency: known, but not glued over real words.
VOCABULARY_WORD_FREQUENCY = 300
# The plan's framing (notice, parts) yields to its operative clauses when both fit equally.
FRAMING_FACTOR = 0.9
# A sanction yields to the duty it enforces unless the question asks what follows a breach.
SANCTION_FACTOR = 0.75
# A shortlisted clause that gives the kind of thing asked (a time limit for 多久) gains this share.
ANSWER_KIND_BONUS = 0.2
# Pinyin or English words: read by their sound, not weighed by the dictionary.
_LATIN_WORD = re.compile(r"[a-z]{2,}")


class Verdict(StrEnum):
    ANSWER = "answer"
    AMBIGUOUS = "ambiguous"
    FALLBACK = "fallback"


class FallbackReason(StrEnum):
    EMPTY = "empty"
    NO_MATCH = "no_match"
    OFF_TOPIC = "off_topic"
    OTHER_REGION = "other_region"


@dataclass(frozen=True, slots=True)
class RankedClause:
    entry: IndexedClause
    score: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The engine's decision for one question."""

    verdict: Verdict
    ranked: tuple[RankedClause, ...] = ()
    handoff: bool = False
    is_traditional: bool = False
    asks_figure: bool = False
    fallback_reason: FallbackReason | None = None
    other_region: str | None = None
    features: tuple[str, ...] = field(default=(), repr=False)
    # The share of the question's information the best clause explains, and its BM25 score.
    coverage: float = 0.0
    evidence: float = 0.0
    # How much information (in jieba-dictionary log-frequency units) the best clause explains.
    explained: float = 0.0

    @property
    def best(self) -> RankedClause | None:
        return self.ranked[0] if self.ranked and self.verdict != Verdict.FALLBACK else None

    @property
    def topic(self) -> Topic | None:
        best = self.best
        return best.entry.topic if best else None


class Matcher:
    """Built once at start-up from the knowledge base and the lexicon; `match` is the hot path."""

    def __init__(
        self,
        knowledge: Iterable[tuple[Document, Curation | None]],
        lexicon: Lexicon,
        signals: Signals | None = None,
        *,
        feature_cache: FeatureCache | None = None,
    ) -> None:
        self._signals = signals or load_signals()
        entries = indexed_clauses(knowledge)
        phrases = {
            phrase.lower()
            for entry in entries
            if entry.curated is not None
            for phrase in entry.curated.phrases
        }
        vocabulary = set(lexicon.synonyms) | set(lexicon.synonyms.values()) | phrases
        self.converter = ScriptConverter()
        self._normalizer = Normalizer(self.converter)
        # Only reviewed terms join jieba's dictionary: a variant glued in as a word would cut
        # through real words (农民工办 in 农民工办事); variants are found by the synonym pass.
        canonical = sorted(set(lexicon.synonyms.values()))
        self._tokenizer = Tokenizer(
            [*lexicon.user_words, *((term, VOCABULARY_WORD_FREQUENCY) for term in canonical)],
            lexicon.stopwords,
            lexicon.dictionary_path,
        )
        self._corrector = PhoneticCorrector(
            vocabulary,
            readings=lexicon.readings,
            common_words=self._tokenizer.word_frequencies,
            segment=self._tokenizer.segment,
            function_words=lexicon.stopwords,
        )
        self.index = ClauseIndex(entries, self._tokenizer, feature_cache)
        self._query = QueryReader(
            self._tokenizer,
            lexicon,
            phrases,
            self.index,
            canonical_terms=set(canonical),
            asking_words=self._signals.shapes.asking_words,
        )
        self._content = ContentReader(
            self._tokenizer,
            self._signals.shapes.asking_words,
            asker=self._signals.handoff.first_person,
            asks=self._signals.shapes.asks,
            legal_terms=frozenset(canonical),
        )
        self._library_features = frozenset(self.index.postings)
        # A word only one clause uses: what one strong match weighs in this index.
        self._rare_word_score = max(self.index.idf.values(), default=1.0)
        self._heights = heading_heights(self.index.entries)
        self._framing = [
            position
            for position, entry in enumerate(self.index.entries)
            if entry.clause.kind in ("preamble", "part")
        ]
        kinds = self._signals.shapes.answer_kinds
        self._answer_kinds: tuple[frozenset[str], ...] = tuple(
            frozenset(
                kind.name
                for kind in kinds
                if kind.answers.search(
                    entry.clause.text + (entry.curated.summary if entry.curated else "")
                )
            )
            for entry in self.index.entries
        )
        heading = self._signals.shapes.sanction_heading
        self._sanctions = [
            position
            for position, entry in enumerate(self.index.entries)
            if heading.search(entry.context)
        ]
        # The plan is the first document; laws are the rest. Items only: no headings as companions.
        self._plan_key = self.index.entries[0].document_key if self.index.entries else ""
        self._by_family: dict[str, list[int]] = {}
        for position, entry in enumerate(self.index.entries):
            family = topic_family(entry.topic)
            if family is not None and entry.is_item:
                self._by_family.setdefault(family, []).append(position)
        self._legal_aid = next(
            (
                position
                for position, entry in enumerate(self.index.entries)
                if entry.topic == "legal_aid" and entry.is_item
            ),
            None,
        )

    @property
    def entries(self) -> tuple[IndexedClause, ...]:
        return self.index.entries

    def entry(self, document_key: str, clause_id: str) -> IndexedClause | None:
        position = self.index.positions.get((document_key, clause_id))
        return None if position is None else self.index.entries[position]

    def query_features(self, text: str) -> dict[str, float]:
        """Weighted features of a normalised, corrected question."""
        return self._query.read(text)[0]

    def _scores(
        self, features: Mapping[str, float], *, is_overview: bool, asks_sanction: bool = False
    ) -> list[float]:
        """BM25 scores with headings kept for overview questions, the framing and (unless asked
        for) the sanctions yielding."""
        scores = self.index.score(features)
        if not asks_sanction:
            for position in self._sanctions:
                scores[position] *= SANCTION_FACTOR
        for position, height in self._heights.items():
            if is_overview:
                scores[position] *= OVERVIEW_FACTOR[min(height, len(OVERVIEW_FACTOR)) - 1]
            else:
                scores[position] *= HEADING_FACTOR**height
        for position in self._framing:
            scores[position] *= FRAMING_FACTOR
        return scores

    def _runners_up(
        self, features: dict[str, float], scores: list[float], best: int, is_overview: bool
    ) -> list[int]:
        """Places 2–5 ranked on what the best clause leaves unasked-for, then on their own score.

        "落户和孩子上学": the schooling clause covers 上学, so 落户 decides who comes second.
        """
        residual = {
            feature: weight
            for feature, weight in features.items()
            if not any(posting.entry == best for posting in self.index.postings.get(feature, ()))
        }
        leftover = self._scores(residual, is_overview=is_overview)
        combined = [leftover[i] + RESIDUAL_SHARE * scores[i] for i in range(len(scores))]
        rest = sorted(
            (i for i in range(len(scores)) if i != best and scores[i] > 0),
            key=combined.__getitem__,
            reverse=True,
        )
        return rest[: MAX_RANKED - 1]

    def _with_companion(self, organic: list[int], scores: list[float]) -> list[int]:
        """A law's answer with what the plan promises on its matter beside it, and the reverse.

        The best clause of the other kind (plan ↔ law) in the same topic family, if it has a
        real share of the best score, becomes the second source.
        """
        lead = self.index.entries[organic[0]]
        family = topic_family(lead.topic)
        is_plan = lead.document_key == self._plan_key
        companion = max(
            (
                i
                for i in self._by_family.get(family or "", ())
                if (self.index.entries[i].document_key == self._plan_key) != is_plan
            ),
            key=scores.__getitem__,
            default=None,
        )
        if companion is None or scores[companion] < COMPANION_RATIO * scores[organic[0]]:
            return organic
        rest = [i for i in organic[1:] if i != companion]
        return [organic[0], companion, *rest][:MAX_RANKED]

    def _with_legal_aid(self, organic: list[int], aid: int) -> list[int]:
        """Someone's own dispute: the two best articles on their matter, then the union's legal aid.

        The answer offers legal aid first whatever the clause's rank; among the sources it
        follows the articles that settle the dispute and stays among the three shown. A question
        about legal aid itself keeps the clause first, or beside the legal-aid article it asks of.
        """
        if organic and organic[0] == aid:
            return organic
        matter = [i for i in organic if i != aid]
        place = 1 if matter and self.index.entries[matter[0]].topic == "legal_aid" else 2
        return [*matter[:place], aid, *matter[place:]][:MAX_RANKED]

    def match(self, question: str) -> MatchResult:
        normalized = self._normalizer.normalize(question)
        shapes = self._signals.shapes
        text = shapes.registered_in.sub(r"户籍\3", self._corrector.correct(normalized.text))
        if not re.search(r"[\u4e00-\u9fffa-z0-9]", text):
            return MatchResult(
                Verdict.FALLBACK,
                is_traditional=normalized.is_traditional,
                fallback_reason=FallbackReason.EMPTY,
            )
        is_overview = bool(shapes.overview.search(text))
        # In an overview question "总结一下/有哪些措施/这个方案" say what kind of answer is
        # wanted, not what it is about; elsewhere "这个文件" may be the subject (who issued it).
        asked = shapes.overview.sub(" ", shapes.plan_itself.sub(" ", text)) if is_overview else text
        features, term_spans = self._query.read(asked)
        content = self._content.read(asked, term_spans, self._query.expansions)
        scores = self._scores(
            features, is_overview=is_overview, asks_sanction=bool(shapes.asks_sanction.search(text))
        )
        handoff = is_handoff(text, self._signals.handoff)
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
        # Among the best-scoring clauses, the one that explains more of the question ranks first.
        shortlist = [i for i in order[:SHORTLIST] if scores[i] > 0]
        coverages = {i: content.coverage(self.index.features[i]) for i in shortlist}
        # Ranked by what the ask names more than by the story, and by the legal terms it was read as.
        clauses = self.index.features
        focused = {i: content.asked_coverage(clauses[i], FOCUS_FACTOR) for i in shortlist}
        raw_scores = {i: scores[i] for i in shortlist}
        listed = set(shortlist)
        for i in range(len(scores)):
            # Clauses past the shortlist count as explaining nothing, so all share one scale.
            scores[i] *= (COVERAGE_FLOOR + focused.get(i, 0.0)) ** COVERAGE_EXPONENT
        asked_kinds = {kind.name for kind in shapes.answer_kinds if kind.asks.search(asked)}
        if asked_kinds:
            for i in shortlist:
                if not asked_kinds.isdisjoint(self._answer_kinds[i]):
                    scores[i] *= 1 + ANSWER_KIND_BONUS
        order = sorted(listed, key=scores.__getitem__, reverse=True)
        organic = [i for i in order[:MAX_RANKED] if scores[i] > 0]
        is_close = len(organic) > 1 and scores[organic[1]] >= AMBIGUITY_RATIO * scores[organic[0]]
        best_score = raw_scores[organic[0]] if organic else 0.0
        coverage = coverages[organic[0]] if organic else 0.0
        if organic and not is_close:
            # What the best leaves unexplained is a second subject only if it says something.
            second = (1 - coverage) * content.information >= RESIDUAL_MIN_INFORMATION
            rest = self._runners_up(features if second else {}, scores, organic[0], is_overview)
            organic = self._with_companion([organic[0], *rest], scores)
        elif organic and handoff:
            # Someone's own dispute is answered, not asked "which one?": its second source explains
            # what the first explains (notice pay is no second source for unpaid wages).
            lead, clauses = self.index.features[organic[0]], self.index.features
            same = [i for i in order[1:] if content.shared(lead, clauses[i]) >= SAME_ASK][:1]
            organic = [organic[0], *same, *(i for i in organic[1:] if i not in same)]
        if handoff and self._legal_aid is not None:
            organic = self._with_legal_aid(organic, self._legal_aid)
        ranked = tuple(RankedClause(self.index.entries[i], round(scores[i], 3)) for i in organic)
        # Dictionary words only: a word jieba guessed (没上 in 没上牌) hides nothing.
        frequencies = self._tokenizer.word_frequencies
        words = [w for w in self._tokenizer.segment(text) if frequencies.get(w[0], 0) > 0]
        scope = check_scope(text, self._signals.scope, words)
        evidence = Evidence(
            score=best_score,
            coverage=coverage,
            information=content.information,
            foreign=content.foreign(self._library_features),
            rare_word_score=self._rare_word_score,
            is_spelled_out=bool(_LATIN_WORD.search(text)),
            is_about_work=bool(self._signals.handoff.labour_context.search(text)),
        )
        said = self.index.features[organic[0]] if organic else None
        reason: FallbackReason | None = None
        if scope.other_region is not None:
            reason = FallbackReason.OTHER_REGION
        elif not handoff and is_unanswered_elsewhere(scope, evidence, said):
            reason = FallbackReason.OFF_TOPIC
        elif not handoff and lacks_evidence(evidence):
            reason = FallbackReason.NO_MATCH
        if reason is not None or not ranked:
            return MatchResult(
                Verdict.FALLBACK,
                ranked=ranked,
                handoff=handoff and reason in (None, FallbackReason.NO_MATCH),
                is_traditional=normalized.is_traditional,
                fallback_reason=reason or FallbackReason.NO_MATCH,
                other_region=scope.other_region,
                features=tuple(features),
                coverage=coverage,
                evidence=best_score,
                explained=coverage * content.information,
            )
        return MatchResult(
            Verdict.AMBIGUOUS if is_close and not handoff else Verdict.ANSWER,
            ranked=ranked,
            handoff=handoff,
            is_traditional=normalized.is_traditional,
            asks_figure=bool(shapes.asks_figure.search(text)),
            features=tuple(features),
            coverage=coverage,
            evidence=best_score,
            explained=coverage * content.information,
        )
