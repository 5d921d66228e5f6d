"""The parser on the bundled plan, on regulation-style text, on other numbering, and on junk."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.document import Document, ParseError
from knowledge.lexicon import bundled_data_path
from knowledge.parser import chinese_to_int, lead_departments, parse_document, parse_file

FIXTURES = Path(__file__).parent / "fixtures"
PLAN_IDS = [
    "0", "1", "2", "2.1", "2.1.1", "2.1.2", "2.1.3", "2.1.4", "2.1.5", "2.2", "2.2.1", "2.2.2",
    "2.2.3", "2.2.4", "2.3", "2.3.1", "2.3.2", "2.3.3", "2.3.4", "2.4", "2.4.1", "2.4.2", "2.4.3",
    "2.4.4", "2.4.5", "2.5", "2.5.1", "2.5.2", "2.5.3", "2.5.4", "3", "3.1", "3.2", "3.3", "3.4",
]  # fmt: skip
PLAN_DEPARTMENTS = {
    "2.1.1": ("人社",), "2.1.2": ("人社",), "2.1.3": ("人社",), "2.1.4": ("人社",),
    "2.1.5": ("人社", "农业农村"), "2.2.1": ("人社",), "2.2.2": ("人社",), "2.2.3": ("农业农村",),
    "2.2.4": ("农业农村",), "2.3.1": ("人社",), "2.3.2": ("人社", "医保"), "2.3.3": ("人社",),
    "2.3.4": ("工会",), "2.4.1": ("发展改革", "教育", "人社", "医保", "住房城乡建设"),
    "2.4.2": ("财政",), "2.4.3": ("住房城乡建设",), "2.4.4": ("教育",),
    "2.4.5": ("发展改革", "公安", "人社"), "2.5.1": ("人社",), "2.5.2": ("人社",),
    "2.5.3": ("人社",), "2.5.4": ("人社",),
}  # fmt: skip


@pytest.fixture(scope="module")
def plan() -> Document:
    return parse_file(bundled_data_path("tianjin-2023-county-migrant-plan.txt"))


def test_plan_has_the_35_clause_ids_in_reading_order(plan: Document) -> None:
    assert list(plan.clause_ids) == PLAN_IDS


def test_plan_kinds_and_parents(plan: Document) -> None:
    kinds = {clause.id: (clause.kind, clause.parent) for clause in plan.clauses}
    assert kinds["0"] == ("preamble", None)
    assert kinds["2"] == ("part", None)
    assert kinds["2.3"] == ("section", "2")
    assert kinds["2.3.3"] == ("item", "2.3")
    assert kinds["3.2"] == ("section", "3")


def test_plan_titles_of_parts_and_sections(plan: Document) -> None:
    titles = {clause.id: clause.title for clause in plan.clauses}
    assert titles["1"] == "行动目标"
    assert titles["2.1"] == "提高就业创业质量"
    assert titles["2.5"] == "提升基层服务农民工能力"
    assert titles["3.4"] == "做好宣传引导"


def test_every_item_has_its_lead_departments(plan: Document) -> None:
    items = {c.id: c.departments for c in plan.clauses if c.kind == "item"}
    assert items == PLAN_DEPARTMENTS


def test_plan_metadata(plan: Document) -> None:
    assert plan.title == "天津市开展县域农民工市民化质量提升行动实施方案"
    assert plan.meta["document_number"] == "津人社办发〔2023〕11号"
    assert plan.meta["index_number"] == "1112000000012568X5/2023-00057"
    assert plan.meta["publisher"] == "天津市人力资源和社会保障局"
    assert "天津市教育委员会" in plan.meta["co_publishers"]
    assert plan.meta["subject"].startswith("人力资源社会保障")
    assert plan.meta["signed"] == "2023-03-11"
    assert "印发" in plan.meta["name"]


def test_preamble_holds_the_notice_and_the_opening_paragraph(plan: Document) -> None:
    preamble = plan.clauses[0].text
    assert "现将《天津市开展县域农民工市民化质量提升行动实施方案》印发给你们" in preamble
    assert "制定本实施方案" in preamble and "为深入贯彻落实" in preamble
    assert "2023年3月11日" in preamble


def test_page_chrome_is_dropped(plan: Document) -> None:
    for clause in plan.clauses:
        for chrome in (
            "简体",
            "无障碍",
            "长者模式",
            "| 政策解读",
            "相关报道",
            "天津政务网",
            "附件",
        ):
            assert chrome not in clause.text, (clause.id, chrome)


def test_item_text_is_whole(plan: Document) -> None:
    legal_aid = plan.clause("2.3.4")
    assert legal_aid is not None and "知工" in legal_aid.text
    assert legal_aid.text.endswith("(工会部门负责)")


def test_regulation_chapters_and_articles() -> None:
    document = parse_file(FIXTURES / "regulation.txt")
    assert list(document.clause_ids) == [
        "0",
        "ch1",
        "art1",
        "art2",
        "ch2",
        "art3",
        "art12",
        "ch3",
        "art13",
    ]
    article = document.clause("art3")
    assert article is not None and article.kind == "article" and article.parent == "ch2"
    assert "（二）劳动者的姓名、住址" in article.text
    assert document.clause("ch2") is not None and document.clause("ch2").title == "劳动合同"  # type: ignore[union-attr]


def test_sections_numbered_straight_through_parts_keep_their_own_numbers() -> None:
    document = parse_file(FIXTURES / "straight_sections.txt")
    assert "3.12.2" in document.clause_ids and "3.3" in document.clause_ids
    assert document.clause("3.12.1").departments == ("发展改革", "财政")  # type: ignore[union-attr]
    item = document.clause("2.1.2")
    assert item is not None and "（2）职业介绍" in item.text and "②线下服务" in item.text
    assert item.departments == ("人社", "教育")
    assert "2.1.2.1" not in document.clause_ids


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("三十三", 33),
        ("一百零五", 105),
        ("１２", 12),
    ],
)
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert chinese_to_int(numeral) == value


def test_departments_of_a_union_item() -> None:
    assert lead_departments("……提供免费工会法律援助。（工会部门负责）") == ("工会",)
    assert lead_departments("（含技工学校）开展培训。") == ()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  ",
        "今天天气很好，我们去公园散步吧。没有任何编号的一段话。",
        "asdf qwer zxcv 1234",
    ],
)
def test_text_without_structure_is_refused(text: str) -> None:
    with pytest.raises(ParseError) as error:
        parse_document(text, key="x")
    assert str(error.value)


def test_binary_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ParseError, match="二进制"):
        parse_file(path)


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="读不了"):
        parse_file(tmp_path / "missing.txt")


def test_gb18030_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes(
        (FIXTURES / "straight_sections.txt").read_text(encoding="utf-8").encode("gb18030")
    )
    assert "3.12.2" in parse_file(path).clause_ids
