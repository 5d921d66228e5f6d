"""The parser on the bundled plan, on regulation-style text, on other numbering, and on junk."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from knowledge.document import Clause, Document, ParseError
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
PLAN_HEADINGS = {
    "1": "行动目标", "2": "重点任务", "2.1": "提高就业创业质量", "2.2": "提升技能水平",
    "2.3": "强化劳动权益保障", "2.4": "加强公共服务供给", "2.5": "提升基层服务农民工能力",
    "3": "工作要求", "3.1": "加强组织领导", "3.2": "精心组织实施", "3.3": "加强指导调度",
    "3.4": "做好宣传引导",
}  # fmt: skip
PLAN_META = {
    "name": "市人社局等9部门关于印发《天津市开展县域农民工市民化质量提升行动实施方案》的通知",
    "index_number": "1112000000012568X5/2023-00057",
    "publisher": "天津市人力资源和社会保障局",
    "co_publishers": (
        "天津市发展和改革委员会;天津市农业农村委员会;天津市财政局;天津市住房和城乡建设委员会;"
        "天津市公安局;天津市医疗保障局;天津市教育委员会"
    ),
    "document_number": "津人社办发〔2023〕11号",
    "subject": "人力资源社会保障\\就业培训",
    "signed": "2023-03-11",
}
# Section numerals as a plan writes them when (一)…(三十三) run straight through nine parts.
NUMERALS = [
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四",
    "十五", "十六", "十七", "十八", "十九", "二十", "二十一", "二十二", "二十三", "二十四",
    "二十五", "二十六", "二十七", "二十八", "二十九", "三十", "三十一", "三十二", "三十三",
]  # fmt: skip


def clause(document: Document, clause_id: str) -> Clause:
    found = document.clause(clause_id)
    assert found is not None, f"no clause {clause_id} in {document.clause_ids}"
    return found


@pytest.fixture(scope="module")
def plan() -> Document:
    return parse_file(bundled_data_path("tianjin-2023-county-migrant-plan.txt"))


@pytest.fixture(scope="module")
def notice() -> Document:
    return parse_file(FIXTURES / "notice_regulation.txt")


# --- the bundled plan -------------------------------------------------------------------------


def test_plan_has_the_35_clause_ids_in_reading_order(plan: Document) -> None:
    assert list(plan.clause_ids) == PLAN_IDS


def test_plan_kinds_follow_the_depth_of_the_id(plan: Document) -> None:
    expected = {0: "part", 1: "section", 2: "item"}
    kinds = {c.id: c.kind for c in plan.clauses}
    assert kinds.pop("0") == "preamble"
    assert kinds == {clause_id: expected[clause_id.count(".")] for clause_id in kinds}


def test_plan_parents_are_the_id_minus_its_last_number(plan: Document) -> None:
    parents = {c.id: c.parent for c in plan.clauses}
    assert parents == {clause_id: (clause_id.rpartition(".")[0] or None) for clause_id in PLAN_IDS}


def test_plan_titles_of_parts_and_sections(plan: Document) -> None:
    titles = {c.id: c.title for c in plan.clauses if c.kind in ("part", "section")}
    assert titles == PLAN_HEADINGS


def test_every_item_has_its_lead_departments(plan: Document) -> None:
    items = {c.id: c.departments for c in plan.clauses if c.kind == "item"}
    assert items == PLAN_DEPARTMENTS


def test_parts_and_sections_without_a_closing_parenthesis_have_no_departments(
    plan: Document,
) -> None:
    assert all(c.departments == () for c in plan.clauses if c.kind != "item")


def test_plan_metadata(plan: Document) -> None:
    assert dict(plan.meta) == PLAN_META


def test_plan_title_is_the_standalone_title_line(plan: Document) -> None:
    assert plan.title == "天津市开展县域农民工市民化质量提升行动实施方案"


def test_preamble_holds_the_notice_and_the_opening_paragraph(plan: Document) -> None:
    preamble = clause(plan, "0")
    assert preamble.kind == "preamble"
    assert preamble.title == PLAN_META["name"]
    assert "现将《天津市开展县域农民工市民化质量提升行动实施方案》印发给你们" in preamble.text
    assert "为深入贯彻落实" in preamble.text and "制定本实施方案" in preamble.text
    assert "2023年3月11日" in preamble.text


def test_metadata_block_is_not_clause_text(plan: Document) -> None:
    assert "索引号" not in clause(plan, "0").text.replace(" ", "")
    assert "1112000000012568X5" not in clause(plan, "0").text


def test_page_chrome_is_dropped(plan: Document) -> None:
    # 政策解读 and 相关政策 also occur in the plan's own sentences; the chrome has the bar.
    chrome = ["简体", "繁体", "无障碍", "长者模式", "| 政策解读", "| 相关", "相关报道"]
    chrome += ["天津政务网", "星期二", "附件"]
    for c in plan.clauses:
        for piece in chrome:
            assert piece not in c.text, (c.id, piece)


def test_item_text_is_whole_and_keeps_its_parenthesis(plan: Document) -> None:
    legal_aid = clause(plan, "2.3.4")
    assert "知工" in legal_aid.text
    assert legal_aid.text.startswith("健全法律援助和法律服务网络")
    assert legal_aid.text.endswith("(工会部门负责)")


def test_item_title_is_its_first_phrase(plan: Document) -> None:
    assert clause(plan, "2.1.1").title == "按规定落实减负稳岗各项政策"
    assert clause(plan, "2.3.2").title == "持续推进全民参保计划"


def test_long_item_titles_are_cut_to_24_characters(plan: Document) -> None:
    titles = [c.title for c in plan.clauses if c.kind == "item"]
    assert max(len(title) for title in titles) == 24
    assert clause(plan, "2.4.1").title.startswith("深入贯彻落实《天津市")
    assert clause(plan, "2.4.1").title.endswith("…")


def test_heading_only_part_uses_its_title_as_text(plan: Document) -> None:
    assert clause(plan, "2").text == "重点任务"


def test_part_text_is_its_own_body(plan: Document) -> None:
    goal = clause(plan, "1").text
    assert goal.startswith("适应乡村振兴") and "积分落户" in goal
    assert "提高就业创业质量" not in goal


def test_sections_of_part_three_carry_their_body(plan: Document) -> None:
    assert "2023年4月15日前报市人社局" in clause(plan, "3.2").text
    assert list(plan.children("3.2")) == []


def test_no_clause_text_is_empty_or_padded(plan: Document) -> None:
    for c in plan.clauses:
        assert c.text and c.text == c.text.strip(), c.id
        assert "  " not in c.text and "\u2002" not in c.text, c.id


# --- regulation style -------------------------------------------------------------------------


def test_regulation_chapters_and_articles() -> None:
    document = parse_file(FIXTURES / "regulation.txt")
    assert list(document.clause_ids) == [
        "0", "ch1", "art1", "art2", "ch2", "art3", "art12", "ch3", "art13",
    ]  # fmt: skip
    parents = {c.id: c.parent for c in document.clauses if c.kind == "article"}
    assert parents == {"art1": "ch1", "art2": "ch1", "art3": "ch2", "art12": "ch2", "art13": "ch3"}
    assert clause(document, "ch2").kind == "chapter"
    assert clause(document, "ch2").title == "劳动合同"


def test_regulation_sub_items_stay_in_their_article() -> None:
    document = parse_file(FIXTURES / "regulation.txt")
    article = clause(document, "art3")
    assert article.kind == "article"
    assert "（一）用人单位的名称、住所；\n（二）劳动者的姓名、住址" in article.text
    assert all(c.kind in ("preamble", "chapter", "article") for c in document.clauses)


def test_regulation_keeps_full_width_digits_in_the_text() -> None:
    document = parse_file(FIXTURES / "regulation.txt")
    assert clause(document, "art13").text == "本办法自２０２３年５月１日起施行。"


def test_articles_without_chapters_have_no_parent() -> None:
    document = parse_document(
        "天津市某某规定\n第一条 为了规范管理，制定本规定。\n第二条 本规定自公布之日起施行。",
        key="rules",
    )
    assert list(document.clause_ids) == ["0", "art1", "art2"]
    assert clause(document, "art2").parent is None


def test_notice_page_ids_skip_the_table_of_contents(notice: Document) -> None:
    assert list(notice.clause_ids) == [
        "0", "ch1", "art1", "art2", "ch2", "ch2.s1", "art3", "art4", "ch2.s2", "art5", "ch3",
        "art6",
    ]  # fmt: skip


def test_articles_under_a_jie_hang_from_it(notice: Document) -> None:
    assert clause(notice, "ch2.s1").parent == "ch2"
    assert clause(notice, "art3").parent == "ch2.s1"
    assert clause(notice, "art6").parent == "ch3"


def test_numbered_lines_inside_an_article_stay_in_it(notice: Document) -> None:
    assert clause(notice, "art5").text.endswith("1．日常检查；\n2．专项检查。")


def test_article_departments(notice: Document) -> None:
    assert clause(notice, "art4").departments == ("市某某局",)


def test_notice_title_is_the_covered_document(notice: Document) -> None:
    assert notice.title == "天津市某某服务管理办法"


def test_same_line_metadata_and_a_filled_signing_date(notice: Document) -> None:
    assert dict(notice.meta) == {
        "name": "天津市某某局关于印发《天津市某某服务管理办法》的通知",
        "document_number": "津某发〔2023〕5号",
        "signed": "2023-05-10",
        "published": "2023-05-12",
    }


def test_notice_preamble_and_footer(notice: Document) -> None:
    preamble = clause(notice, "0").text
    assert "现将《天津市某某服务管理办法》印发给你们" in preamble
    assert "二〇二三年五月八日" in preamble and "目" not in preamble.replace("项目", "")
    assert all("政策解读" not in c.text for c in notice.clauses)


# --- other plan-style numbering ---------------------------------------------------------------


def test_sections_numbered_straight_through_parts_keep_their_own_numbers() -> None:
    document = parse_file(FIXTURES / "straight_sections.txt")
    assert list(document.clause_ids) == [
        "0", "1", "2", "2.1", "2.1.1", "2.1.2", "2.2", "2.2.1", "3", "3.3", "3.12", "3.12.1",
        "3.12.2",
    ]  # fmt: skip
    assert clause(document, "3.12.2").parent == "3.12"
    assert clause(document, "3.12").parent == "3"
    assert clause(document, "3.12.1").departments == ("发展改革", "财政")


def test_sub_items_stay_inside_their_item() -> None:
    document = parse_file(FIXTURES / "straight_sections.txt")
    item = clause(document, "2.1.2")
    assert "（2）职业介绍" in item.text and "②线下服务" in item.text
    assert item.departments == ("人社", "教育")


def test_numbering_up_to_thirty_three_through_nine_parts() -> None:
    lines = ["某某行动方案"]
    for part in range(9):
        lines.append(f"{NUMERALS[part]}、第{part + 1}部分")
        for number in range(part * 4, min(part * 4 + 4, 33) if part < 8 else 33):
            lines += [f"({NUMERALS[number]})任务{number + 1}", f"1．做好第{number + 1}项工作。"]
    document = parse_document("\n".join(lines), key="long")
    assert document.clause_ids[-2:] == ("9.33", "9.33.1")
    assert clause(document, "9.33.1").parent == "9.33"


def test_items_directly_under_a_part_hang_from_the_part() -> None:
    document = parse_document(
        "某某工作方案\n一、总体要求\n1、坚持就业优先。\n2、坚持统筹推进。\n二、保障措施\n加强领导。",
        key="plan",
    )
    assert list(document.clause_ids) == ["0", "1", "1.1", "1.2", "2"]
    assert clause(document, "1.2").parent == "1"
    assert clause(document, "2").text == "加强领导。"


def test_a_new_part_closes_the_previous_section() -> None:
    document = parse_document(
        "某某工作方案\n一、主要任务\n(一)稳就业\n1.扩大岗位。\n二、保障措施\n1.加强领导。",
        key="plan",
    )
    assert list(document.clause_ids) == ["0", "1", "1.1", "1.1.1", "2", "2.1"]
    assert clause(document, "2.1").parent == "2"


def test_indentation_and_full_width_marks_are_accepted() -> None:
    text = (
        "某某实施意见\n"
        "\u3000\u3000一、\t总体目标\n"
        "\t（一）\u3000主要目标。到2025年，基本实现目标。\n"
        "        １．做好服务工作。（市发展改革委、市人社局按职责分工负责）\n"
    )
    document = parse_document(text, key="indent")
    assert list(document.clause_ids) == ["0", "1", "1.1", "1.1.1"]
    section = clause(document, "1.1")
    assert (section.title, section.text) == ("主要目标", "到2025年，基本实现目标。")
    assert clause(document, "1.1.1").departments == ("市发展改革委", "市人社局")


def test_a_notice_numbered_only_with_sections_is_parsed() -> None:
    document = parse_document(
        "关于做好春节期间服务的通知\n各区：\n（一）加强服务。各区要做好服务。\n（二）做好宣传。",
        key="sections",
    )
    assert list(document.clause_ids) == ["0", "1", "2"]
    assert clause(document, "1").kind == "section" and clause(document, "1").parent is None
    assert document.title == "关于做好春节期间服务的通知"


def test_numbered_lines_before_the_first_part_stay_in_the_preamble() -> None:
    document = parse_document(
        "某某通知\n1.先说明一件事。\n一、总体要求\n坚持就业优先。\n二、任务\n1.做事。", key="x"
    )
    assert list(document.clause_ids) == ["0", "1", "2", "2.1"]
    assert "先说明一件事" in clause(document, "0").text


def test_closing_signature_is_the_signing_date_not_item_text() -> None:
    document = parse_document(
        "某某通知\n现就有关事项通知如下：\n1.第一件事。\n2.第二件事。\n天津市某某局\n"
        "二〇二三年三月十一日",
        key="signed",
    )
    assert clause(document, "2").text == "第二件事。"
    assert document.meta["signed"] == "2023-03-11"


def test_an_empty_label_does_not_swallow_the_body() -> None:
    document = parse_document(
        "名称：天津市某某规定\n主题：\n天津市某某规定\n第一条 内容。\n第二条 内容。", key="x"
    )
    assert dict(document.meta) == {"name": "天津市某某规定"}
    assert clause(document, "0").text == "天津市某某规定"


def test_a_cover_notice_without_a_title_line_is_titled_by_what_it_covers() -> None:
    document = parse_document(
        "关于印发《天津市某某工作方案》的通知\n各区：\n现将方案印发给你们。\n一、工作目标\n做好工作。",
        key="x",
    )
    assert document.title == "天津市某某工作方案"
    assert clause(document, "0").title == "关于印发《天津市某某工作方案》的通知"


def test_title_falls_back_to_the_meta_name_then_the_first_line() -> None:
    with_name = parse_document("名称：某某工作安排\n\n一、工作目标\n做好工作。", key="x")
    assert with_name.title == "某某工作安排"
    bare = parse_document("一、工作目标\n做好工作。", key="x")
    assert bare.title == "一、工作目标"


def test_utf8_with_bom_and_gb18030_files_are_read(tmp_path: Path) -> None:
    text = (FIXTURES / "straight_sections.txt").read_text(encoding="utf-8")
    for encoding in ("utf-8-sig", "gb18030"):
        path = tmp_path / f"plan-{encoding}.txt"
        path.write_bytes(text.encode(encoding))
        document = parse_file(path)
        assert document.key == f"plan-{encoding}"
        assert "3.12.2" in document.clause_ids


# --- pieces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("三十三", 33), ("九十九", 99),
     ("一百零五", 105), ("１２", 12), ("二〇二三", 2023)],
)  # fmt: skip
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert chinese_to_int(numeral) == value


@pytest.mark.parametrize(
    ("text", "departments"),
    [
        ("……稳定就业。(人社部门牵头负责)", ("人社",)),
        ("……返乡创业。(人社、农业农村部门按照职责分工负责)", ("人社", "农业农村")),
        ("……法律援助。（工会部门负责）", ("工会",)),
        ("……(发展改革、教育、人社、医保、住房城乡建设等部门按照职责分工负责)",
         ("发展改革", "教育", "人社", "医保", "住房城乡建设")),
        ("……加大支持。(财政部门牵头负责)。", ("财政",)),
        ("……积分落户。(发展改革、公安、人社等部门按照职责分工负责)", ("发展改革", "公安", "人社")),
        ("……（市人社局牵头，各区人民政府负责）", ("市人社局", "各区人民政府")),
        ("职业院校（含技工学校）开展培训。", ()),
        ("开展培训（含技工学校）", ()),
    ],
)  # fmt: skip
def test_lead_departments(text: str, departments: tuple[str, ...]) -> None:
    assert lead_departments(text) == departments


# --- malformed input --------------------------------------------------------------------------


def _random_ascii() -> str:
    generator = random.Random(20230311)
    return "".join(generator.choice(string.printable) for _ in range(2000))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "空"),
        ("   \n\t\u3000 \n", "空"),
        ("今天天气很好，我们去公园散步吧。没有任何编号的一段话。", "编号"),
        ("asdf qwer zxcv 1234\n1. first\n2. second", "中文"),
        (_random_ascii(), "中文"),
        ("一、标题\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10", "控制字符"),
        ("一、标题" + "\ufffd" * 20, "乱码"),
        ("名称：某某通知\n发文字号：津某发〔2023〕1号\n简体|繁体", "没有正文"),
        ("一、总则\n内容。\n一、总则\n内容。", "两次"),
    ],
)
def test_text_the_parser_cannot_use_is_refused(text: str, complaint: str) -> None:
    with pytest.raises(ParseError, match=complaint) as error:
        parse_document(text, key="bad")
    assert str(error.value).startswith("bad：")


def test_binary_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ParseError, match="二进制") as error:
        parse_file(path)
    assert str(path) in str(error.value)


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(b"\xff\xfe\xfd\x80" * 50)
    with pytest.raises(ParseError, match="GB18030"):
        parse_file(path)


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="读不了"):
        parse_file(tmp_path / "missing.txt")


def test_parse_errors_from_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "prose.txt"
    path.write_text("这是一段没有编号的普通文字。", encoding="utf-8")
    with pytest.raises(ParseError, match="编号") as error:
        parse_file(path)
    assert str(error.value).startswith(str(path))
