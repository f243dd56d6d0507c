"""Conversations with known content, written through Rasa's own SQLTrackerStore (SQLite or PostgreSQL),
and the figures the report must find in them.

Four days from Monday 6 May 2024 (Europe/Paris), the third one quiet; four channels; topics answered by a
rule and by a follow-up action; 👍 and 👎; NLU fallbacks, a core fallback and out-of-scope messages; a second
session whose carried-over slots must not count again; a session without any message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

PARIS = ZoneInfo("Europe/Paris")
FALLBACK = "nlu_fallback"
SEARCH = ("action_search_fallback",)


def at(day: int, hour: int, minute: int = 0) -> float:
    """Unix time of day `day` (0 = Monday 6 May 2024) at hour:minute in Paris."""
    return datetime(2024, 5, 6 + day, hour, minute, tzinfo=PARIS).timestamp()


@dataclass(frozen=True)
class Say:
    """A user message and what the assistant did, as Rasa 3.6 stores it."""

    text: str
    intent: str
    ranking: Sequence[tuple[str, float]] = ()
    actions: Sequence[str] = ("utter_answer",)
    topic: str | None = None  # set by the from_intent mapping, right after the message
    feedback: str | None = None
    topic_from_action: str | None = None  # set by a custom action (follow-ups)
    seconds_later: float = 60  # after the previous message of the session


def session(
    start: float, channel: str, says: Sequence[Say], carried: dict[str, str] | None = None
) -> list[Event]:
    """One conversation session: session start (with carried-over slots), then one turn per message, a minute
    after the previous one unless it says otherwise."""
    events: list[Event] = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
        *(SlotSet(name, value, timestamp=start) for name, value in (carried or {}).items()),
        ActionExecuted("action_listen", timestamp=start),
    ]
    t = start + 1
    for index, say in enumerate(says):
        t += say.seconds_later if index else 0
        ranking = list(say.ranking) or [(say.intent, 0.97)]
        parse_data = {
            "text": say.text,
            "intent": {"name": say.intent, "confidence": ranking[0][1]},
            "intent_ranking": [{"name": name, "confidence": confidence} for name, confidence in ranking],
            "entities": [],
        }
        events.append(
            UserUttered(say.text, parse_data["intent"], [], parse_data, timestamp=t, input_channel=channel)
        )
        if say.topic:
            events.append(SlotSet("topic", say.topic, timestamp=t))
        if say.feedback:
            events.append(SlotSet("feedback", say.feedback, timestamp=t))
        for action in say.actions:
            events += [ActionExecuted(action, timestamp=t + 1), BotUttered("…", timestamp=t + 1)]
        if say.topic_from_action:
            events.append(SlotSet("topic", say.topic_from_action, timestamp=t + 1))
        events.append(ActionExecuted("action_listen", timestamp=t + 2))
    return events


BADGE_1 = "comment avoir un badge pour le bâtiment ?"
BADGE_2 = "badge d'accès au bâtiment ?"
WEATHER = "quelle météo demain ?"
PRESIDENT = "qui est le président ?"
PERSONAL = "mon mail est jean.dupont@beta.gouv.fr, qui m'appelle au 06 12 34 56 78 ?"
PERSONAL_MASKED = "mon mail est [e-mail masqué], qui m'appelle au [téléphone masqué] ?"
NONSENSE = "xyzzy"
FUNDING = "financement ??"

SENDERS = {
    "web": "alice.martin@example.org",
    "rest": "0698765432",
    "mattermost": "mm-user-7f3a9",
    "terminal": "cli-user-b41c",
    "silent": "socket-silent-9d2e",
}

CONVERSATIONS: dict[str, list[Event]] = {
    SENDERS["web"]: [
        *session(at(0, 9), "socketio", [
            Say("bonjour", "greet"),
            Say("c'est quoi une startup d'état ?", "ask_what_is_startup_etat",
                topic="ask_what_is_startup_etat",
                actions=("utter_ask_what_is_startup_etat", "action_topic_links")),
            Say("/feedback_positive", "feedback_positive", feedback="positive"),
            Say(BADGE_1, FALLBACK, [(FALLBACK, 0.45), ("ask_first_steps", 0.31), ("greet", 0.2)],
                actions=SEARCH),
        ]),
        # The next day, a new session: the topic and feedback slots are carried over, not given again.
        *session(at(1, 15), "socketio", [
            Say("c koi une SE ?", "ask_what_is_startup_etat", topic="ask_what_is_startup_etat"),
            Say("/feedback_positive", "feedback_positive", feedback="positive"),
            Say("et ça dure combien de temps ?", "followup_duration", actions=("action_answer_followup",),
                topic_from_action="ask_startup_phases"),
        ], carried={"topic": "ask_what_is_startup_etat", "feedback": "positive"}),
    ],
    SENDERS["rest"]: session(at(0, 11), "rest", [
        Say("qu'est-ce que beta.gouv ?", "ask_what_is_beta_gouv", topic="ask_what_is_beta_gouv"),
        Say(WEATHER, "out_of_scope", [("out_of_scope", 0.9), ("greet", 0.05), ("ask_funding", 0.03)],
            actions=("utter_out_of_scope",)),
    ]),
    SENDERS["mattermost"]: session(at(1, 10), "mattermost", [
        Say("c koi un intra", "ask_what_is_intrapreneur", topic="ask_what_is_intrapreneur"),
        Say("pas clair", "feedback_negative", feedback="negative", actions=("utter_feedback_negative",)),
        Say(BADGE_2, FALLBACK, [(FALLBACK, 0.45), ("ask_first_steps", 0.27)], actions=SEARCH),
        Say(PERSONAL, FALLBACK, [(FALLBACK, 0.45), ("ask_join_beta", 0.2)], actions=SEARCH),
    ]),
    SENDERS["terminal"]: session(at(3, 17), "cmdline", [
        Say("hello", "greet"),
        Say(PRESIDENT, "out_of_scope", [("out_of_scope", 0.8), ("ask_what_is_beta_gouv", 0.1)]),
        Say(NONSENSE, FALLBACK, [(FALLBACK, 0.45), ("greet", 0.1)], actions=SEARCH),
        # Understood by the NLU, but the dialogue policies were unsure: the core fallback answered.
        Say(FUNDING, "ask_funding", [("ask_funding", 0.5), ("ask_join_beta", 0.3)], topic="ask_funding",
            actions=("action_default_fallback",)),
    ]),
    SENDERS["silent"]: session(at(2, 8), "socketio", []),
}

EXPECTED_PER_DAY = [
    {"date": "2024-05-06", "conversations": 2, "user_messages": 6, "typed_messages": 5, "fallback": 1,
     "out_of_scope": 1, "fallback_rate": 0.2, "out_of_scope_rate": 0.2},
    {"date": "2024-05-07", "conversations": 2, "user_messages": 7, "typed_messages": 6, "fallback": 2,
     "out_of_scope": 0, "fallback_rate": 0.3333, "out_of_scope_rate": 0.0},
    {"date": "2024-05-08", "conversations": 0, "user_messages": 0, "typed_messages": 0, "fallback": 0,
     "out_of_scope": 0, "fallback_rate": None, "out_of_scope_rate": None},
    {"date": "2024-05-09", "conversations": 1, "user_messages": 4, "typed_messages": 4, "fallback": 2,
     "out_of_scope": 1, "fallback_rate": 0.5, "out_of_scope_rate": 0.25},
]
EXPECTED_TOTALS = {
    "conversations": 5,
    "senders": 4,
    "user_messages": 17,
    "typed_messages": 15,
    "fallback": 5,
    "out_of_scope": 2,
    "fallback_rate": 0.3333,
    "out_of_scope_rate": 0.1333,
    "feedback_positive": 2,
    "feedback_negative": 1,
    "median_conversation_length": 4,
}
# topic: (answers, 👍, 👎)
EXPECTED_TOPICS = {
    "ask_what_is_startup_etat": (2, 2, 0),
    "ask_what_is_beta_gouv": (1, 0, 0),
    "ask_what_is_intrapreneur": (1, 0, 1),
    "ask_startup_phases": (1, 0, 0),
}
# channel: (conversations, user messages)
EXPECTED_CHANNELS = {"socketio": (2, 7), "rest": (1, 2), "mattermost": (1, 4), "cmdline": (1, 4)}
EXPECTED_LENGTHS = {"2": 1, "3": 1, "4": 3}
# The unanswered messages, grouped: the two badge questions together, every other one alone.
EXPECTED_GROUPS = [
    {BADGE_1, BADGE_2},
    {WEATHER},
    {PRESIDENT},
    {PERSONAL_MASKED},
    {NONSENSE},
    {FUNDING},
]


def write_conversations(
    store: SQLTrackerStore, conversations: dict[str, list[Event]] = CONVERSATIONS
) -> None:
    """Save each conversation through the store, as the Rasa server would."""
    slots = [TextSlot("topic", mappings=[]), TextSlot("feedback", mappings=[])]
    for sender, events in conversations.items():
        tracker = DialogueStateTracker.from_events(sender, events, slots=slots)
        asyncio.run(store.save(tracker))


def sqlite_store(path: str) -> SQLTrackerStore:
    return SQLTrackerStore(dialect="sqlite", db=path)


# Probably wrong answers (in a store of their own): (sender, session start, what was said).
LOW = [("ask_team_roles", 0.6), ("ask_community", 0.3)]
ROLES_REPHRASED = "les rôles dans l'équipe"
ROLES_DENIED = "rôles équipe"
ROLES_LOW_1 = "rôles dans une équipe"
ROLES_LOW_2 = "les rôles d'une équipe ?"
FUNDING_LOW = "comment on finance une startup"
INTRA_DISLIKED = "c'est quoi un intra ?"
WRONG_SESSIONS: list[tuple[str, float, list[Say]]] = [
    ("wrong-rephrase", at(0, 9), [
        Say(ROLES_REPHRASED, "ask_team_roles", [("ask_team_roles", 0.9)], topic="ask_team_roles"),
        # Another topic asked 30 s later: the first answer probably missed.
        Say("qui fait quoi dans une équipe produit ?", "ask_community", topic="ask_community",
            seconds_later=30),
    ]),
    ("wrong-denied", at(0, 10), [
        Say(ROLES_DENIED, "ask_team_roles", [("ask_team_roles", 0.96)], topic="ask_team_roles"),
        Say("non c'est pas ça", FALLBACK, [(FALLBACK, 0.45)], actions=SEARCH, seconds_later=200),
    ]),
    # The same person on two days: two conversations, one person.
    ("wrong-returning", at(0, 11), [
        Say(ROLES_LOW_1, "ask_team_roles", LOW, topic="ask_team_roles"),
    ]),
    ("wrong-returning", at(1, 11), [
        Say(ROLES_LOW_2, "ask_team_roles", [("ask_team_roles", 0.54)], topic="ask_team_roles"),
    ]),
    ("wrong-low", at(0, 12), [
        Say(FUNDING_LOW, "ask_funding", [("ask_funding", 0.52), ("ask_join_beta", 0.3)], topic="ask_funding"),
        Say("merci", "thank", seconds_later=300),
    ]),
    ("wrong-feedback", at(0, 13), [
        Say(INTRA_DISLIKED, "ask_what_is_intrapreneur", topic="ask_what_is_intrapreneur"),
        Say("pas clair", "feedback_negative", feedback="negative", actions=("utter_feedback_negative",)),
    ]),
    # Not wrong: a later question, a follow-up, a polite « non merci », a button with its 👎.
    ("right-slow", at(0, 14), [
        Say("les rôles dans une équipe ?", "ask_team_roles", topic="ask_team_roles"),
        Say("et le financement ?", "ask_funding", topic="ask_funding", seconds_later=120),
    ]),
    ("right-followup", at(0, 15), [
        Say("c'est quoi une SE", "ask_what_is_startup_etat", topic="ask_what_is_startup_etat"),
        Say("et ça dure combien de temps ?", "followup_duration", actions=("action_answer_followup",),
            topic_from_action="ask_startup_phases", seconds_later=20),
    ]),
    ("right-no-thanks", at(0, 16), [
        Say("le financement", "ask_funding", topic="ask_funding"),
        Say("non merci", "goodbye", seconds_later=100),
    ]),
    ("right-button", at(0, 17), [
        Say("/ask_funding", "ask_funding", [("ask_funding", 1.0)], topic="ask_funding"),
        Say("/feedback_negative", "feedback_negative", feedback="negative", seconds_later=10),
    ]),
]
# The groups expected: {wordings}: (messages, conversations, people, topic answered, reasons).
EXPECTED_WRONG = {
    frozenset({ROLES_REPHRASED, ROLES_DENIED, ROLES_LOW_1, ROLES_LOW_2}): (
        4, 4, 3, ("ask_team_roles", 0.75), {"low_confidence": 2, "rephrased": 1, "denied": 1}
    ),
    frozenset({FUNDING_LOW}): (1, 1, 1, ("ask_funding", 0.52), {"low_confidence": 1}),
    frozenset({INTRA_DISLIKED}): (1, 1, 1, ("ask_what_is_intrapreneur", 0.97), {"feedback_negative": 1}),
}


def write_wrong_answers(store: SQLTrackerStore) -> None:
    by_sender: dict[str, list[Event]] = {}
    for sender, start, says in WRONG_SESSIONS:
        by_sender.setdefault(sender, []).extend(session(start, "socketio", says))
    write_conversations(store, by_sender)


# For the purge: a limit, and per sender its sessions, each with the times of its messages around the limit.
# Sessions open with a session start, except the ones marked False (stored before Rasa logged session starts).
PURGE_CUTOFF = 1_715_000_000.0
DAY = 86_400.0
PURGE_SESSIONS: dict[str, list[tuple[bool, list[float]]]] = {
    "expired": [(False, [PURGE_CUTOFF - 120 * DAY, PURGE_CUTOFF - 100 * DAY, PURGE_CUTOFF - 3 * DAY])],
    "just-expired": [(False, [PURGE_CUTOFF - 0.001])],
    "at-the-limit": [(False, [PURGE_CUTOFF - 5 * DAY, PURGE_CUTOFF])],
    "long-running": [(False, [PURGE_CUTOFF - 200 * DAY, PURGE_CUTOFF - 150 * DAY, PURGE_CUTOFF + 1])],
    "recent": [(False, [PURGE_CUTOFF + DAY])],
    # A person who came back: two old sessions go, the one of today stays.
    "returning": [
        (True, [PURGE_CUTOFF - 30 * DAY, PURGE_CUTOFF - 30 * DAY + 60]),
        (True, [PURGE_CUTOFF - 10 * DAY]),
        (True, [PURGE_CUTOFF + 90 * DAY]),
    ],
    # Messages stored without a session start, then a session started after the limit.
    "returning-legacy": [(False, [PURGE_CUTOFF - 50 * DAY]), (True, [PURGE_CUTOFF + 1])],
}
# Deleted by a purge at PURGE_CUTOFF: sessions and events (a session start logs 4, each message 2).
PURGE_DELETED = (5, 6 + 2 + (4 + 4) + (4 + 2) + 2)
# Kept by a purge at PURGE_CUTOFF, with their number of events.
PURGE_KEPT = {"at-the-limit": 4, "long-running": 6, "recent": 2, "returning": 6, "returning-legacy": 6}
EXPIRED_TEXT = "texte-de-la-conversation-expiree"
CURRENT_TEXT = "texte-de-la-conversation-en-cours"


def session_start(t: float, carried: dict[str, str]) -> list[Event]:
    return [
        ActionExecuted("action_session_start", timestamp=t),
        SessionStarted(timestamp=t),
        *(SlotSet(name, value, timestamp=t) for name, value in carried.items()),
        ActionExecuted("action_listen", timestamp=t),
    ]


def purge_events(sessions: list[tuple[bool, list[float]]], cutoff: float) -> list[Event]:
    """A sender's sessions: the messages of a session that ends before `cutoff` say EXPIRED_TEXT."""
    events: list[Event] = []
    for started, times in sessions:
        if started:
            events += session_start(times[0] - 1, {"topic": "ask_team_roles"})
        text = EXPIRED_TEXT if times[-1] < cutoff else CURRENT_TEXT
        for t in times:
            events += [UserUttered(text, timestamp=t), ActionExecuted("action_listen", timestamp=t)]
    return events


def write_purge_messages(store: SQLTrackerStore) -> None:
    slots = [TextSlot("topic", mappings=[])]
    for sender, sessions in PURGE_SESSIONS.items():
        events = purge_events(sessions, PURGE_CUTOFF)
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, slots=slots)))
