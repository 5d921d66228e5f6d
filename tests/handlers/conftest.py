"""A small hand-made knowledge base, so dialogue tests don't depend on the parser or the plan."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from handlers.dialogue import Dialogue
from handlers.flows import build_dialogue
from handlers.state import MemoryDialogueStore
from knowledge.curation import CuratedClause, Curation
from knowledge.document import Clause, Document
from knowledge.lexicon import Lexicon
from knowledge.match import Matcher

DOC_KEY = "sample-plan"


def sample_knowledge() -> tuple[Document, Curation]:
    clauses = (
        Clause("0", "preamble", "通知", "现将《示例方案》印发给你们。"),
        Clause("1", "part", "重点任务", "重点任务", parent=None),
        Clause("1.1", "section", "劳动权益", "劳动权益", parent="1"),
        Clause(
            "1.1.1", "item", "保障工资支付",
            "落实保障农民工工资支付工作制度，及时查处拖欠农民工工资案件。(人社部门牵头负责)",
            ("人社",), "1.1",
        ),
        Clause(
            "1.1.2", "item", "法律援助",
            "在市总工会知工APP开通法律援助功能，为农民工提供免费工会法律援助。(工会部门负责)",
            ("工会",), "1.1",
        ),
        Clause(
            "1.1.3", "item", "随迁子女入学",
            "统筹安排符合条件的农民工随迁子女在公办学校就读。(教育部门牵头负责)",
            ("教育",), "1.1",
        ),
    )  # fmt: skip
    document = Document(DOC_KEY, "示例方案", {"document_number": "示例〔2023〕1号"}, clauses)
    curated = {
        "1.1.1": CuratedClause(
            "1.1.1", "工资拖欠", "rights", "政府要查处拖欠农民工工资的案件。",
            "保留工资凭证，向区人社部门反映。", "区人社局", ("12333",), ("欠薪", "讨薪", "工钱"),
            "方案没有写多久能要回工资。",
        ),
        "1.1.2": CuratedClause(
            "1.1.2", "工会法律援助", "legal_aid", "工会为符合条件的农民工提供免费法律援助。",
            "在知工APP里申请。", "工会", ("12351",), ("律师", "法律援助"),
        ),
        "1.1.3": CuratedClause(
            "1.1.3", "孩子上公办学校", "schooling", "符合条件的随迁子女可以在公办学校上学。",
            "向区教育局问入学条件。", "区教育局", ("12345",), ("上学", "念书", "小学"),
        ),
    }  # fmt: skip
    return document, Curation(DOC_KEY, "示例方案", MappingProxyType(curated))


@pytest.fixture(scope="session")
def matcher() -> Matcher:
    lexicon = Lexicon(
        synonyms=MappingProxyType({"欠薪": "拖欠工资", "不给钱": "拖欠工资", "念书": "入学"}),
        user_words=(("拖欠工资", 2000),),
    )
    return Matcher([sample_knowledge()], lexicon)


@pytest.fixture
def store() -> MemoryDialogueStore:
    return MemoryDialogueStore()


@pytest.fixture
def dialogue(matcher: Matcher, store: MemoryDialogueStore) -> Dialogue:
    return build_dialogue(matcher, store)
