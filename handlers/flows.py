"""The dialogue's flows in priority order: the one place that order is written.

A new flow is one module (a `Flow`) and one entry here. Earlier entries win, so each entry's
comment says why it stands where it does.
"""

from __future__ import annotations

from handlers.campaigns import CampaignNotices
from handlers.dialogue import Dialogue
from handlers.feedback import FeedbackFlow
from handlers.flow import Flow
from handlers.help import HelpFlow
from handlers.jobs import JobsFlow
from handlers.knowledge_source import KnowledgeSource, knowledge_source
from handlers.leftovers import LeftoversFlow
from handlers.legal_aid import LegalAidEntry, LegalAidFlow
from handlers.privacy import PrivacyFlow
from handlers.questions import QuestionFlow
from handlers.state import DialogueStore
from handlers.subscriptions import Subscriptions
from handlers.topics import TopicsFlow
from knowledge.match import Matcher


def build_flows(
    knowledge: Matcher | KnowledgeSource,
    store: DialogueStore,
    *,
    feedback: bool = True,
    legal_aid: LegalAidFlow | None = None,
    subscriptions: Subscriptions | None = None,
    campaigns: CampaignNotices | None = None,
    jobs: JobsFlow | None = None,
) -> tuple[Flow, ...]:
    """Without a case desk (`legal_aid` None) legal aid is information only and there is no
    /mycase or /forget; without a subscription store there is no /subscribe."""
    source = knowledge_source(knowledge)
    to_simplified = source.matcher.converter.to_simplified
    flows: list[Flow] = []
    if legal_aid is not None:
        # A draft under way first: its typed answers ("同意", "武清") are not questions or words;
        # passing on, it drops an abandoned draft or one another command took over from.
        flows.append(legal_aid)
        # Right after the /forget prompt, "取消" or 确认删除 answers it; passing withdraws it.
        flows.append(PrivacyFlow(legal_aid.desk, to_simplified=to_simplified))
    if subscriptions is not None:
        flows.append(subscriptions)
    if jobs is not None:
        # Before topics and questions: 找工作 and the steps' typed answers (西青, 电焊) are its own.
        flows.append(jobs)
    flows += [
        FeedbackFlow(store),
        # Before topics: the menu's 法律援助 topic button starts the referral.
        LegalAidEntry(legal_aid, to_simplified=to_simplified),
        TopicsFlow(source, jobs_entry=jobs is not None),
        HelpFlow(store, to_simplified=to_simplified),
        # After every flow that takes commands or buttons: what none of them knew.
        LeftoversFlow(),
        # Last: every typed message left is a question.
        QuestionFlow(source, store, feedback=feedback, campaigns=campaigns),
    ]
    return tuple(flows)


def build_dialogue(
    knowledge: Matcher | KnowledgeSource,
    store: DialogueStore,
    *,
    feedback: bool = True,
    legal_aid: LegalAidFlow | None = None,
    subscriptions: Subscriptions | None = None,
    campaigns: CampaignNotices | None = None,
    jobs: JobsFlow | None = None,
) -> Dialogue:
    """The dialogue the bot's composition root wires (and the tests use)."""
    source = knowledge_source(knowledge)
    flows = build_flows(
        source,
        store,
        feedback=feedback,
        legal_aid=legal_aid,
        subscriptions=subscriptions,
        campaigns=campaigns,
        jobs=jobs,
    )
    preludes = (jobs,) if jobs is not None else ()
    return Dialogue(flows, store, converter=source.matcher.converter, preludes=preludes)
