"""Two Rasa instances on the production profile (endpoints.production.yml: PostgreSQL tracker store,
Redis lock store), behind nginx round-robin: a conversation can move from one instance to the other at every
turn, and simultaneous messages of one conversation are handled one after the other instead of overwriting
each other."""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests import servers
from tests.integration import stores, trackers

# Payloads, so that the test does not depend on NLU; each one has a rule answering utter_<intent>.
TURNS = [
    "/greet",
    "/ask_team_roles",
    "/ask_startup_phases",
    "/thank",
    "/ask_what_is_intrapreneur",
    "/goodbye",
]
SIMULTANEOUS = [
    "/ask_team_roles",
    "/ask_startup_phases",
    "/ask_what_is_intrapreneur",
    "/ask_become_intrapreneur",
    "/ask_how_incubators_work",
    "/thank",
]
TOPICS = {payload.removeprefix("/") for payload in TURNS + SIMULTANEOUS if payload.startswith("/ask_")}


@dataclass
class Cluster:
    proxy_url: str
    instance_urls: list[str]


@pytest.fixture(scope="module")
def cluster(action_server: servers.Server) -> Iterator[Cluster]:
    action_url = action_server.webhook_url
    with stores.postgresql() as pg, stores.redis_server() as redis, contextlib.ExitStack() as stack:
        instances = [
            servers.rasa_server(
                servers.REPO / "endpoints.production.yml",
                name=f"rasa-instance-{number}",
                extra_args=trackers.API_ARGS,
                env=stores.production_env(pg, redis, action_url),
            )
            for number in (1, 2)
        ]
        # Both load their model at the same time; the stack stops them at the end, even on failure.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
            list(executor.map(lambda server: stack.enter_context(servers.running(server)), instances))
        urls = [instance.ready_url.rstrip("/") for instance in instances]
        with stores.nginx([url.removeprefix("http://") for url in urls]) as proxy:
            yield Cluster(proxy_url=proxy.ready_url.rstrip("/"), instance_urls=urls)


def check_turn(turn: trackers.Turn, payload: str) -> None:
    assert trackers.expected_action(payload) in turn.actions, f"{payload} answered with {turn.actions}"
    assert turn.actions[-1] == "action_listen", f"{payload} was interrupted: {turn.actions}"


def test_conversations_alternating_between_instances_keep_every_turn(cluster: Cluster) -> None:
    senders = [f"alternating-{number}" for number in range(3)]
    answered_by: dict[str, list[str]] = {sender: [] for sender in senders}
    for payload in TURNS:
        for sender in senders:
            reply = trackers.send(cluster.proxy_url, sender, payload)
            assert reply.json(), f"no answer to {payload}"
            answered_by[sender].append(reply.headers["X-Upstream"])

    for sender in senders:
        upstreams = answered_by[sender]
        assert all(a != b for a, b in itertools.pairwise(upstreams)), f"turns did not alternate: {upstreams}"
        conversation = trackers.tracker(cluster.instance_urls[0], sender)
        turns = trackers.turns(conversation["events"])
        assert [turn.text for turn in turns] == TURNS
        for turn, payload in zip(turns, TURNS, strict=True):
            check_turn(turn, payload)
        topics = [turn.slots["topic"] for turn in turns if "topic" in turn.slots]
        assert topics == [payload.removeprefix("/") for payload in TURNS if payload.startswith("/ask_")]
        assert conversation["slots"]["topic"] == "ask_what_is_intrapreneur"


def test_simultaneous_messages_of_one_conversation_are_all_kept_in_order(cluster: Cluster) -> None:
    senders = [f"simultaneous-{number}" for number in range(3)]
    requests_to_send = [
        (sender, payload, cluster.instance_urls[index % 2])
        for sender in senders
        for index, payload in enumerate(SIMULTANEOUS)
    ]
    start_together = threading.Barrier(len(requests_to_send))

    def post(sender: str, payload: str, url: str) -> int:
        start_together.wait(timeout=60)
        return requests.post(
            f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": payload}, timeout=300
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(requests_to_send)) as executor:
        statuses = list(executor.map(lambda request: post(*request), requests_to_send))
    assert statuses == [200] * len(requests_to_send)

    for sender in senders:
        conversation = trackers.tracker(cluster.instance_urls[1], sender)
        turns = trackers.turns(conversation["events"])
        assert sorted(turn.text for turn in turns) == sorted(SIMULTANEOUS), "a message was lost or doubled"
        for turn in turns:
            check_turn(turn, turn.text)
        last_topic = [turn.text.removeprefix("/") for turn in turns if turn.text.removeprefix("/") in TOPICS][
            -1
        ]
        assert conversation["slots"]["topic"] == last_topic
