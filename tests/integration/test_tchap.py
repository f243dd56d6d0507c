"""Bienvenue on Tchap against a real homeserver: Synapse (its own environment, .venv-synapse) on loopback,
the Tchap client (python -m tchap, .venv-tchap), a Rasa server with the Tchap channel, and a test user
driven through tests/tchap_user.py (matrix-nio, end-to-end encryption on).

Every wait is a hang guard; the bot's answers are counted once the answer to a last question has come: the
bot answers the messages of a room in order, so a duplicate would have come before it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests import servers

SYNAPSE_PYTHON = servers.REPO / ".venv-synapse" / "bin" / "python"
TCHAP_PYTHON = servers.REPO / ".venv-tchap" / "bin" / "python"
HANG_GUARD_S = 300
CHANNEL_TOKEN = secrets.token_hex(16)
BOT_PASSWORD = secrets.token_hex(12)
USER_PASSWORD = secrets.token_hex(12)


def synapse_server(directory: Path, port: int) -> servers.Server:
    """A homeserver "localhost" on loopback, SQLite, no rate limits, registration by shared secret only."""
    config_path = directory / "homeserver.yaml"
    if not config_path.exists():
        subprocess.run(
            [
                str(SYNAPSE_PYTHON),
                "-m",
                "synapse.app.homeserver",
                "--server-name",
                "localhost",
                "--config-path",
                str(config_path),
                "--generate-config",
                "--report-stats=no",
                "--data-directory",
                str(directory),
            ],
            check=True,
            capture_output=True,
        )
        config = yaml.safe_load(config_path.read_text())
        unlimited = {"per_second": 1000, "burst_count": 1000}
        config.update(
            listeners=[
                {
                    "port": port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            registration_shared_secret=secrets.token_hex(16),
            trusted_key_servers=[],
            rc_message=unlimited,
            rc_joins={"local": unlimited, "remote": unlimited},
            rc_invites={"per_room": unlimited, "per_user": unlimited, "per_issuer": unlimited},
            rc_login={"address": unlimited, "account": unlimited, "failed_attempts": unlimited},
            rc_registration=unlimited,
            rc_key_requests=unlimited,
        )
        config.pop("log_config", None)
        config_path.write_text(yaml.safe_dump(config))
    return servers.Server(
        name="synapse",
        command=[str(SYNAPSE_PYTHON), "-m", "synapse.app.homeserver", "--config-path", str(config_path)],
        ready_url=f"http://127.0.0.1:{port}/health",
    )


def register(base_url: str, config_path: Path, localpart: str, password: str) -> str:
    """Shared-secret registration (Synapse's admin API), as register_new_matrix_user does."""
    secret = yaml.safe_load(config_path.read_text())["registration_shared_secret"]
    url = f"{base_url}/_synapse/admin/v1/register"
    with urllib.request.urlopen(url, timeout=30) as reply:
        nonce = json.load(reply)["nonce"]
    mac = hmac.new(
        secret.encode(),
        b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"notadmin"]),
        hashlib.sha1,
    ).hexdigest()
    body = json.dumps(
        {"nonce": nonce, "username": localpart, "password": password, "admin": False, "mac": mac}
    )
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)["user_id"]


class TchapUser:
    """The test user's matrix-nio client, in .venv-tchap, spoken to in JSON lines."""

    def __init__(self, name: str) -> None:
        log = (servers.LOG_DIR / f"{name}.log").open("ab")
        self.process = subprocess.Popen(
            [str(TCHAP_PYTHON), str(servers.REPO / "tests" / "tchap_user.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=servers.REPO,
            text=True,
        )

    def __getattr__(self, op: str) -> Callable[..., Any]:
        def call(**arguments: Any) -> Any:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
            self.process.stdin.flush()
            answer = json.loads(self.process.stdout.readline())
            if "error" in answer:
                raise RuntimeError(f"{op}: {answer['error']}")
            return answer["ok"]

        return call

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wait_until(check: Callable[[], Any], what: str, alive: servers.Server | None = None) -> Any:
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        if alive is not None and alive.process is not None and alive.process.poll() is not None:
            raise AssertionError(f"{alive.name} exited while waiting for {what}: see {alive.log_path}")
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"hang guard: {what} after {HANG_GUARD_S} s")


def replied_to(event: dict[str, Any]) -> str | None:
    return event["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")


class World:
    def __init__(
        self,
        synapse: servers.Server,
        base_url: str,
        config: Path,
        tchap: servers.Server,
        bot_id: str,
        user: TchapUser,
        user_id: str,
    ) -> None:
        self.synapse, self.base_url, self.config, self.tchap = synapse, base_url, config, tchap
        self.bot_id, self.user, self.user_id = bot_id, user, user_id
        self.answer_delays_ms: list[int] = []  # question to answer, homeserver timestamps
        self.rasa_url = ""
        self.tracker_db = Path()

    def bot_events(self, room: str) -> list[dict[str, Any]]:
        return [event for event in self.user.seen(room=room) if event["sender"] == self.bot_id]

    def answers_to(self, room: str, event_id: str) -> list[dict[str, Any]]:
        return [
            event
            for event in self.bot_events(room)
            if event["type"] == "m.room.message" and replied_to(event) == event_id
        ]

    def ask(self, room: str, content: dict[str, Any]) -> dict[str, Any]:
        """Sends a message and waits for the bot's answer to it; returns that answer."""
        event_id = self.user.send(room=room, content=content)
        answers = self.wait(lambda: self.answers_to(room, event_id), f"answer to {content.get('body')!r:.80}")
        asked = [event["ts"] for event in self.user.seen(room=room) if event["event_id"] == event_id]
        if asked:
            self.answer_delays_ms.append(answers[0]["ts"] - asked[0])
        return {"question": event_id, **answers[0]}

    def write_delays(self) -> None:
        """Figures, not a criterion: how long answers took (homeserver timestamps), in results/."""
        delays = sorted(self.answer_delays_ms)
        if not delays:
            return
        figures = {"answers": len(delays), "median_ms": delays[len(delays) // 2], "max_ms": delays[-1]}
        (servers.REPO / "results").mkdir(exist_ok=True)
        (servers.REPO / "results" / "tchap-answer-delays.json").write_text(json.dumps(figures, indent=2))
        print(f"\nTchap answer delays: {figures}")

    def join_room(self, room: str) -> None:
        self.wait(lambda: self.bot_id in self.user.joined(room=room), "the bot joining the room")

    def wait(self, check: Callable[[], Any], what: str) -> Any:
        return wait_until(check, what, alive=self.tchap)


def text(body: str, **extra: Any) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": body, **extra}


@pytest.fixture(scope="module")
def world(action_server: servers.Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("tchap")
    (directory / "synapse").mkdir()
    port = servers.free_port()
    synapse = synapse_server(directory / "synapse", port)
    base_url = f"http://127.0.0.1:{port}"
    action_url = action_server.webhook_url
    endpoints = servers.sqlite_endpoints(directory, action_url, directory / "conversations.db")
    rasa = servers.rasa_server(endpoints, env={"TCHAP_CHANNEL_TOKEN": CHANNEL_TOKEN}, name="rasa-tchap")
    user = None
    with servers.running(synapse), servers.running(rasa):
        config = directory / "synapse" / "homeserver.yaml"
        bot_id = register(base_url, config, "bienvenue", BOT_PASSWORD)
        user_id = register(base_url, config, "camille", USER_PASSWORD)
        tchap = servers.Server(
            name="tchap",
            command=[str(TCHAP_PYTHON), "-m", "tchap"],
            ready_url=base_url + "/health",  # the client has no port: it is started once Synapse answers
            env={
                "TCHAP_HOMESERVER": base_url,
                "TCHAP_USER_ID": bot_id,
                "TCHAP_PASSWORD": BOT_PASSWORD,
                "TCHAP_DISPLAY_NAME": "Bienvenue",
                "TCHAP_STORE_DIR": str(directory / "store"),
                "TCHAP_RASA_URL": rasa.ready_url.rstrip("/"),
                "TCHAP_CHANNEL_TOKEN": CHANNEL_TOKEN,
                "TCHAP_IGNORED_USERS": "@autre-bot:localhost",
            },
        )
        user = TchapUser("tchap-user")
        try:
            with servers.running(tchap):
                user.login(homeserver=base_url, user_id=user_id, password=USER_PASSWORD)
                world = World(synapse, base_url, config, tchap, bot_id, user, user_id)
                world.rasa_url = rasa.ready_url.rstrip("/")
                world.tracker_db = directory / "conversations.db"
                yield world
                world.write_delays()
        finally:
            user.close()


@pytest.fixture(scope="module")
def dm(world: World) -> str:
    room = world.user.create_room(invite=[world.bot_id], encrypted=True, direct=True, public=False)
    world.join_room(room)
    return room


@pytest.fixture(scope="module")
def public_room(world: World) -> str:
    room = world.user.create_room(invite=[world.bot_id], encrypted=False, direct=False, public=True)
    world.join_room(room)
    # A third member: with two, the room would count as a direct conversation.
    world.user.invite(room=room, user_id=register(world.base_url, world.config, "dominique", USER_PASSWORD))
    world.user.send(room=room, content=text("Bonjour à tous"))
    return room


def test_encrypted_dm_answered_encrypted_with_the_topic(world: World, dm: str) -> None:
    answer = world.ask(dm, text("Qu'est-ce qu'une startup d'État ?"))
    assert answer["decrypted"] and answer["type"] == "m.room.message"
    content = answer["content"]
    assert content["msgtype"] == "m.notice"
    assert "startup" in content["body"].lower()
    assert world.bot_id not in content["body"] and world.user_id not in content["body"]
    assert "<script" not in content["formatted_body"]


def test_public_room_only_mentions_and_replies(world: World, public_room: str) -> None:
    unaddressed = world.user.send(room=public_room, content=text("Qu'est-ce que beta.gouv.fr ?"))
    mentioned = world.ask(public_room, text("Bienvenue : qu'est-ce que beta.gouv.fr ?"))
    pill = world.ask(
        public_room,
        text(
            "B. question de financement",  # a pill alone: the name is not in the body
            format="org.matrix.custom.html",
            formatted_body=f'<a href="https://matrix.to/#/{world.bot_id}">B.</a> question de financement',
        ),
    )
    reply = world.ask(
        public_room,
        text("et qui finance ?", **{"m.relates_to": {"m.in_reply_to": {"event_id": pill["event_id"]}}}),
    )
    assert "beta.gouv.fr" in mentioned["content"]["body"]
    assert reply["content"]["body"]
    assert world.answers_to(public_room, unaddressed) == []


def test_thread_answered_in_the_thread(world: World, public_room: str) -> None:
    root = world.user.send(room=public_room, content=text("Un fil pour mes questions"))
    answer = world.ask(
        public_room,
        text(
            "Bienvenue, qu'est-ce qu'un intrapreneur ?",
            **{
                "m.relates_to": {
                    "rel_type": "m.thread",
                    "event_id": root,
                    "is_falling_back": True,
                    "m.in_reply_to": {"event_id": root},
                }
            },
        ),
    )
    relation = answer["content"]["m.relates_to"]
    assert relation["rel_type"] == "m.thread" and relation["event_id"] == root


def test_reaction_records_feedback(world: World, dm: str) -> None:
    answer = world.ask(dm, text("Comment rejoindre beta.gouv.fr ?"))
    world.user.send(
        room=dm,
        type="m.reaction",
        content={"m.relates_to": {"rel_type": "m.annotation", "event_id": answer["event_id"], "key": "👍"}},
    )
    thanks = world.wait(lambda: world.answers_to(dm, answer["event_id"]), "thanks for the feedback")
    assert thanks[0]["content"]["body"]


def test_numbered_choice_sends_its_button(world: World, dm: str) -> None:
    answer = world.ask(dm, text("Qu'est-ce qu'une startup d'État ?"))
    assert "1. " in answer["content"]["body"]  # the answer's buttons, as numbered choices
    world.ask(dm, text("1"))
    conversation = f"tchap:{dm}:{world.user_id}"
    with sqlite3.connect(world.tracker_db) as db:
        (data,) = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id DESC LIMIT 1",
            (conversation,),
        ).fetchone()
    assert json.loads(data)["text"].startswith("/")  # the button's payload, not "1"


def test_other_bots_and_notices_ignored(world: World, public_room: str) -> None:
    notice = world.user.send(room=public_room, content={"msgtype": "m.notice", "body": "Bienvenue : bonjour"})
    other_bot_id = register(
        world.base_url, world.config, "autre-bot", USER_PASSWORD
    )  # in TCHAP_IGNORED_USERS
    other_bot = TchapUser("tchap-other-bot")
    try:
        other_bot.login(homeserver=world.base_url, user_id=other_bot_id, password=USER_PASSWORD)
        world.user.invite(room=public_room, user_id=other_bot_id)
        other_bot.join(room=public_room)
        from_other_bot = other_bot.send(
            room=public_room, content=text("Bienvenue : c'est quoi beta.gouv.fr ?")
        )
    finally:
        other_bot.close()
    last = world.ask(public_room, text("Bienvenue : bonjour"))  # answered after the messages before it
    assert world.answers_to(public_room, notice) == []
    assert world.answers_to(public_room, from_other_bot) == []
    assert last["content"]["body"]


def test_hostile_formatted_body_and_huge_message(world: World, dm: str) -> None:
    hostile = world.ask(
        dm,
        text(
            "<img src=x onerror=alert(1)> [piège](javascript:alert(1)) c'est quoi beta.gouv.fr ?",
            format="org.matrix.custom.html",
            formatted_body='<a href="javascript:alert(1)">clic</a><img src="mxc://x/y"> c\'est quoi beta ?',
        ),
    )
    for field in ("body", "formatted_body"):
        value = hostile["content"][field].lower()
        assert "javascript:" not in value and "<img" not in value and "onerror" not in value
    huge = world.ask(dm, text("startup " * 4_000))  # 32 kB: encrypted, near the 64 kB of a Matrix event
    assert "trop long" in huge["content"]["body"]


def test_undecryptable_message_gets_a_notice(world: World, dm: str) -> None:
    forged = world.user.send_raw(
        room=dm,
        type="m.room.encrypted",
        content={
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AAAA",
            "sender_key": "x" * 43,
            "session_id": "inconnue",
            "device_id": "TESTS",
        },
    )
    answer = world.wait(lambda: world.answers_to(dm, forged), "the notice for an undecryptable message")
    assert "déchiffrer" in answer[0]["content"]["body"]


def test_restarts_lose_and_duplicate_nothing(world: World, dm: str, public_room: str) -> None:
    world.tchap.stop()
    while_down = world.user.send(room=dm, content=text("Qu'est-ce qu'une startup d'État ?"))
    world.tchap.start()
    world.wait(
        lambda: world.answers_to(dm, while_down), "the answer to a message sent while the bot was down"
    )

    world.synapse.stop()
    world.synapse.start()
    after_homeserver = world.ask(dm, text("Comment rejoindre beta.gouv.fr ?"))
    assert after_homeserver["content"]["body"]

    # More messages than one sync brings back while the bot is down: the question is in the gap.
    world.tchap.stop()
    in_the_gap = world.user.send(room=public_room, content=text("Bienvenue : c'est quoi un intrapreneur ?"))
    for number in range(120):
        world.user.send(room=public_room, content=text(f"bavardage {number}"))
    world.tchap.start()
    world.wait(lambda: world.answers_to(public_room, in_the_gap), "the answer to a question in the gap")

    # Last questions: every earlier answer came before theirs.
    world.ask(dm, text("Merci !"))
    world.ask(public_room, text("Bienvenue : merci !"))
    for room in (dm, public_room):
        replies: dict[str, int] = {}
        for event in world.bot_events(room):
            if event["type"] != "m.room.message":
                continue
            assert not event["undecryptable"]
            target = replied_to(event)
            replies[target] = replies.get(target, 0) + 1
        assert all(count == 1 for count in replies.values()), replies
    assert os.environ.get("TCHAP_CHANNEL_TOKEN") is None  # the token stays in the test's processes


def test_new_device_of_the_user_reads_the_answers(world: World, dm: str) -> None:
    second = TchapUser("tchap-user-second-device")
    try:
        second.login(homeserver=world.base_url, user_id=world.user_id, password=USER_PASSWORD)
        question = second.send(room=dm, content=text("Qu'est-ce qu'un incubateur ?"))
        answers = world.wait(
            lambda: [
                event
                for event in second.seen(room=dm)
                if event["sender"] == world.bot_id and replied_to(event) == question
            ],
            "the answer seen by the user's new device",
        )
        assert answers[0]["decrypted"] and "incubateur" in answers[0]["content"]["body"].lower()
    finally:
        second.close()


def test_leaves_when_asked_or_kicked(world: World, dm: str, public_room: str) -> None:
    goodbye = world.ask(public_room, text("Bienvenue quitte ce salon"))
    assert "Au revoir" in goodbye["content"]["body"]
    world.wait(lambda: world.bot_id not in world.user.joined(room=public_room), "the bot leaving when asked")

    room = world.user.create_room(invite=[world.bot_id], encrypted=False, direct=False, public=False)
    world.join_room(room)
    world.user.kick(room=room, user_id=world.bot_id)
    still_there = world.ask(dm, text("Êtes-vous toujours là ?"))  # kicked, the bot goes on elsewhere
    assert still_there["content"]["body"]


def test_channel_needs_the_token_and_answers_a_retry_once(world: World) -> None:
    url = f"{world.rasa_url}/webhooks/tchap/webhook"
    body = {"sender": "tchap:!salon:localhost:@x:localhost", "message": "bonjour", "message_id": "$retry"}
    assert requests.post(url, json=body, timeout=HANG_GUARD_S).status_code == 401
    wrong = {"Authorization": "Bearer " + "0" * 32}
    assert requests.post(url, json=body, headers=wrong, timeout=HANG_GUARD_S).status_code == 403
    right = {"Authorization": f"Bearer {CHANNEL_TOKEN}"}
    first = requests.post(url, json=body, headers=right, timeout=HANG_GUARD_S)
    again = requests.post(url, json=body, headers=right, timeout=HANG_GUARD_S)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["messages"]
    with sqlite3.connect(world.tracker_db) as db:
        (turns,) = db.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ? AND type_name = 'user'", (body["sender"],)
        ).fetchone()
    assert turns == 1


def test_invitations_from_other_homeservers_are_declined(world: World, tmp_path: Path) -> None:
    strict_id = register(world.base_url, world.config, "bienvenue-strict", BOT_PASSWORD)
    strict = servers.Server(
        name="tchap-strict",
        command=[str(TCHAP_PYTHON), "-m", "tchap"],
        ready_url=world.base_url + "/health",
        env={
            **world.tchap.env,
            "TCHAP_USER_ID": strict_id,
            "TCHAP_STORE_DIR": str(tmp_path / "store"),
            "TCHAP_ALLOWED_DOMAINS": "agent.exemple.fr",  # not the test homeserver's
        },
    )
    with servers.running(strict):
        room = world.user.create_room(invite=[strict_id], encrypted=False, direct=True, public=False)
        wait_until(
            lambda: world.user.membership(room=room, user_id=strict_id) == "leave",
            "the invitation declined",
            alive=strict,
        )


def run_sh(env: dict[str, str], name: str) -> servers.Server:
    ports = {
        "RASA_PORT": servers.free_port(),
        "ACTIONS_PORT": servers.free_port(),
        "WEB_PORT": servers.free_port(),
    }
    return servers.Server(
        name=name,
        command=[str(servers.REPO / "scripts" / "run.sh")],
        ready_url=f"http://127.0.0.1:{ports['WEB_PORT']}/",  # run.sh starts the page last
        env={"RASA_TELEMETRY_ENABLED": "false", **{key: str(port) for key, port in ports.items()}, **env},
    )


def test_make_run_refuses_an_incomplete_tchap_configuration(tmp_path: Path) -> None:
    server = run_sh(
        {
            "TCHAP_HOMESERVER": "https://matrix.exemple.fr",
            "TCHAP_USER_ID": "",
            "BIENVENUE_TRACKER_DB": str(tmp_path / "c.db"),
        },
        "run-sh-tchap-incomplete",
    )
    # settings.py checks every variable before run.sh starts anything (exit 2, French message).
    with pytest.raises(RuntimeError, match="exited with 2"):
        server.start()
    assert "TCHAP_USER_ID\u202f: requise pour le client Tchap" in server.log_path.read_text()


def test_make_run_starts_the_tchap_client_and_says_so(world: World, tmp_path: Path) -> None:
    bot_id = register(world.base_url, world.config, "bienvenue-run", BOT_PASSWORD)
    server = run_sh(
        {
            "TCHAP_HOMESERVER": world.base_url,
            "TCHAP_USER_ID": bot_id,
            "TCHAP_PASSWORD": BOT_PASSWORD,
            "TCHAP_STORE_DIR": str(tmp_path / "store"),
            "TCHAP_CHANNEL_TOKEN": "",
            "BIENVENUE_TRACKER_DB": str(tmp_path / "c.db"),
        },
        "run-sh-tchap",
    )
    with servers.running(server):
        said = f"Tchap : client démarré pour {bot_id}"
        world.wait(lambda: said in server.log_path.read_text(), "run.sh saying it started the Tchap client")
        room = world.user.create_room(invite=[bot_id], encrypted=True, direct=True, public=False)
        world.wait(lambda: bot_id in world.user.joined(room=room), "the make-run bot joining")
        question = world.user.send(room=room, content=text("Qu'est-ce qu'une startup d'État ?"))
        answers = world.wait(
            lambda: [
                e for e in world.user.seen(room=room) if e["sender"] == bot_id and replied_to(e) == question
            ],
            "the make-run bot's answer",
        )
        assert answers[0]["decrypted"] and "startup" in answers[0]["content"]["body"].lower()
