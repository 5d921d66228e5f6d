"""The bundled colloquial ↔ legal lexicon: one place per variant, the documents' own words as
terms, and workers' sentences reaching the laws' vocabulary (and near misses not reaching it)."""

from __future__ import annotations

import tomllib
from collections import Counter

import pytest

from knowledge.lexicon import Lexicon, bundled_data_path, load_lexicon, parse_synonyms


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


def documents_text() -> str:
    laws = sorted(bundled_data_path("laws").glob("*.md"))
    texts = [path.read_text(encoding="utf-8") for path in laws if path.name != "MANIFEST.md"]
    plan = bundled_data_path("tianjin-2023-county-migrant-plan.txt")
    return "".join(texts) + plan.read_text(encoding="utf-8")


def terms_read(lexicon: Lexicon, text: str) -> set[str]:
    """The canonical terms a question names: its variants (as substrings) and its patterns."""
    found = {canonical for variant, canonical in lexicon.synonyms.items() if variant in text}
    found |= {canonical for pattern, canonical in lexicon.patterns if pattern.search(text)}
    return found


def test_each_variant_is_listed_in_one_place_only() -> None:
    data = tomllib.loads(bundled_data_path("synonyms.toml").read_text(encoding="utf-8"))
    counts = Counter(variant.lower() for variants in data["terms"].values() for variant in variants)
    assert [variant for variant, count in counts.items() if count > 1] == []


def test_a_term_only_patterns_name_is_a_canonical_term_too() -> None:
    # Canonical terms join jieba's dictionary: left out, 期限届满 would be read as 期限 + 届满.
    mapping = parse_synonyms(
        {
            "terms": {"社保": ["社会保险"]},
            "patterns": {"期限届满": ["时效快到"], "社会保险": ["五险"]},
        }
    )
    assert mapping["期限届满"] == "期限届满"
    assert mapping["社会保险"] == "社保"  # a listed variant keeps its term


def test_every_pattern_names_a_word_the_documents_use() -> None:
    data = tomllib.loads(bundled_data_path("synonyms.toml").read_text(encoding="utf-8"))
    text = documents_text()
    assert [canonical for canonical in data["patterns"] if canonical not in text] == []


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("进厂要先交两百押金", "收取财物"),
        ("入职的时候公司收了保证金", "收取财物"),
        ("每个月从工资里扣社保对不对", "代扣代缴"),
        ("老板一直不给我们交社保", "缴纳社会保险费"),
        ("去年的年假没休完能折钱吗", "应休未休"),
        ("工资一般几号发", "支付周期"),
        ("拿饮料顶工钱", "实物"),
        ("昨天加了三个小时班", "延长工作时间"),
        ("加班费到底怎么算", "延长工作时间"),
        ("我们每天十一个小时", "工作时间"),
        ("莫名其妙就把我开除了", "赔偿金"),
        ("已经过了一年多还能仲裁吗", "仲裁时效"),
        ("上班的时候手指被冲床压伤", "事故伤害"),
        ("单位没给买工伤保险", "未参加工伤保险"),
        ("伤残等级去哪里鉴定", "劳动能力鉴定"),
        ("厂里说不招女的", "妇女"),
        ("国庆上班工资怎么算", "工资报酬"),
        ("被老板赶走了", "解除劳动合同"),
        ("手被机器绞伤", "工伤"),
        ("我爸在车间突然昏倒了", "突发疾病"),
        ("老人送到医院没多久就没了", "死亡"),
        ("摔伤了能不能算工伤", "认定为工伤"),
        ("她怀着孩子还被排夜班", "孕期"),
        ("女儿刚生完孩子单位就让她走", "产期"),
        ("我侄子才十四岁能进厂吗", "未满十六周岁"),
        ("辞职要提前多久跟老板打招呼", "书面形式通知"),
        ("工地不给发安全帽", "劳动防护用品"),
        ("班长逼我们不戴安全帽上去干", "强令冒险作业"),
        ("我不识字能不能申请仲裁", "口头申请"),
        ("三十多个工人想一起去仲裁", "推举代表"),
        ("我是农业户口能参加社保吗", "农村居民"),
        ("发薪日赶上周末怎么办", "支付日期"),
        ("老板把我们的工资卡收走了", "扣押"),
        ("上班路上骑车被货车撞了", "交通事故"),
        ("主动离职能不能领失业金", "非因本人意愿中断就业"),
        ("法律援助能不能帮忙打仲裁", "仲裁代理"),
        ("包工头就没跟我们签合同", "书面劳动合同"),
        ("平时只给生活费 工资年底一块结", "按月支付"),
        ("当初只是口头约定的", "口头协议"),
        ("这个算不算工伤", "认定为工伤"),
        ("从入职那天起多久要签合同", "用工之日"),
        ("来例假了还让下冷水", "经期"),
        ("开发商不给钱总包就不发工资", "建设单位"),
        ("单位不肯拿出工资台账", "工资支付台账"),
        ("家里是低保户能找免费律师吗", "最低生活保障"),
        ("仲裁时效快到了法援还没批", "期限届满"),
        ("工伤以后回老家看病能报吗", "统筹地区以外就医"),
        ("老板三个月没发工资我就辞职了", "劳动者可以解除劳动合同"),
        ("单位不给交社保我能直接走人吗", "劳动者可以解除劳动合同"),
        ("包工头跑了能去找总包要钱吗", "施工总承包单位"),
        ("试用期的工资能比转正后低多少", "百分之八十"),
        ("父亲退休前死了 养老保险的钱谁来领", "继承"),
        ("周六加班了能不能倒休", "补休"),
        ("工伤截肢以后装假肢能报吗", "辅助器具"),
        ("被开除的事过了多久就不能去仲裁了", "仲裁时效"),
        ("工伤的医药费能在仲裁裁决前先拿到一部分吗", "先予执行"),
        ("我才来了两个月 够不够办居住证", "居住半年以上"),
    ],
)
def test_workers_words_reach_the_laws_terms(lexicon: Lexicon, question: str, term: str) -> None:
    assert term in terms_read(lexicon, question)


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("房东不退押金怎么办", "收取财物"),  # a tenancy, not an employer taking money
        ("工资保证金是谁交的", "收取财物"),  # the employer's wage guarantee, a law term of its own
        ("参加培训班要交钱吗", "延长工作时间"),
        ("个人所得税从工资里扣多少", "代扣代缴"),
        ("赶集时三轮车被轿车刮了", "交通事故"),  # a road accident off work: not the commute's
        ("他走了以后厂里换了老板", "死亡"),  # 走了 alone is leaving; only after 医院/抢救 a death
        ("今年十五号发工资", "未满十六周岁"),  # a date, not an age
        ("工伤保险怎么交", "认定为工伤"),  # the insurance, not whether something counts as 工伤
        ("提前退休能领多少", "书面形式通知"),
        ("辞职以后公司不给开离职证明", "劳动者可以解除劳动合同"),  # no breach it left over
        ("去银行取养老金能让子女代取吗", "继承"),  # someone alive sending family to the bank
        ("才十二点就让下班了", "未满十六周岁"),  # a time of day, not an age
        ("老板说先付一部分工资", "先予执行"),  # an instalment, not money ahead of an award
        ("加班工资是不是按节假日算", "支付日期"),  # the overtime rate, not the pay day
    ],
)
def test_near_misses_do_not_reach_the_laws_terms(
    lexicon: Lexicon, question: str, term: str
) -> None:
    assert term not in terms_read(lexicon, question)
