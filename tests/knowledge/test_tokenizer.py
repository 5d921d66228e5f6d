"""The tokenizer's own prefix dictionary is exactly the one jieba would build from the file."""

from __future__ import annotations

from pathlib import Path

from knowledge.lexicon import load_lexicon
from knowledge.tokenizer import Tokenizer, jieba, prefix_dictionary


def jiebas_own(path: Path) -> tuple[dict[str, int], int]:
    with path.open("rb") as file:
        built: tuple[dict[str, int], int] = jieba.Tokenizer().gen_pfdict(file)
    return built


def test_the_bundled_dictionary_gives_jiebas_prefix_dictionary() -> None:
    path = load_lexicon().dictionary_path
    assert path is not None
    assert prefix_dictionary(path) == jiebas_own(path)


def test_words_listed_twice_and_without_tags_count_as_jieba_counts(tmp_path: Path) -> None:
    path = tmp_path / "dict.txt"
    path.write_text("工资 30 n\n工资条 5\n劳动合同 12 n\n工资 7 n\n", encoding="utf-8")
    assert prefix_dictionary(path) == jiebas_own(path)


def test_a_tokenizer_on_its_prefix_dictionary_cuts_as_jieba_does(tmp_path: Path) -> None:
    lexicon = load_lexicon()
    assert lexicon.dictionary_path is not None
    reference = jieba.Tokenizer(str(lexicon.dictionary_path))
    reference.tmp_dir = str(tmp_path)
    text = "用人单位自用工之日起超过一个月不满一年未与劳动者订立书面劳动合同的"
    tokenizer = Tokenizer((), dictionary_path=lexicon.dictionary_path)
    assert tokenizer.main_words(text) == [w for w in reference.cut(text) if tokenizer.is_content(w)]


def test_the_fingerprint_follows_the_dictionarys_content(tmp_path: Path) -> None:
    """A cached tokenisation is keyed by it: a count changed at the same width must change it."""
    path = tmp_path / "dict.txt"
    path.write_text("工资 30 n\n劳动合同 12 n\n", encoding="utf-8")
    before = Tokenizer((), dictionary_path=path).fingerprint
    path.write_text("工资 40 n\n劳动合同 12 n\n", encoding="utf-8")
    assert Tokenizer((), dictionary_path=path).fingerprint != before
