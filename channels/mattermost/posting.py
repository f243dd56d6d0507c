"""How the bot's messages of one turn become Mattermost posts or slash command responses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import OutputChannel

from channels.mattermost.incoming import MAX_POST_CHARS
from channels.mattermost.signatures import sign_context

# A slash command's response_url accepts at most 5 messages (Mattermost's CommandWebhook.TryUse limit).
RESPONSE_URL_USES = 5
CHOICES_INTRO = "Pour continuer, vous pouvez taper :"
# Props Mattermost sets on posts made by bot accounts, webhooks, plugins and OAuth apps.
AUTOMATED_PROPS = ("from_bot", "from_webhook", "from_plugin", "from_oauth_app")


def is_automated(post: Mapping[str, Any]) -> bool:
    """A post by a bot account or an integration (Mattermost marks them in props): never answered."""
    props = post.get("props") or {}
    return isinstance(props, dict) and any(
        str(props.get(key, "")).lower() == "true" for key in AUTOMATED_PROPS
    )


def thread_root(post: Mapping[str, Any], post_id: str) -> str:
    """The root of the post's thread: its own root_id when it is a reply, else the post itself."""
    root_id = post.get("root_id")
    return root_id if isinstance(root_id, str) and root_id else post_id


def split_message(text: str, limit: int = MAX_POST_CHARS) -> list[str]:
    """Non-empty pieces of at most ``limit`` characters, cut between paragraphs, lines or words if can be."""
    pieces = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = max(window.rfind(separator) for separator in ("\n\n", "\n", " "))
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


def message_text(message: Mapping[str, Any]) -> str:
    """A bot message as Markdown: its text, its image and its link buttons."""
    parts = []
    if isinstance(message.get("text"), str) and message["text"].strip():
        parts.append(message["text"].strip())
    if isinstance(message.get("image"), str) and message["image"]:
        parts.append(f"![]({message['image']})")
    if isinstance(message.get("attachment"), str) and message["attachment"]:
        parts.append(message["attachment"])
    links = [f"- [{button['title']}]({button['url']})" for button in buttons_of(message) if "url" in button]
    if links:
        parts.append("\n".join(links))
    return "\n\n".join(parts)


def buttons_of(message: Mapping[str, Any]) -> list[dict[str, str]]:
    """The message's usable buttons: a title and either a payload for the bot or a URL."""
    raw = message.get("buttons") or message.get("quick_replies") or []
    buttons = []
    for button in raw if isinstance(raw, list) else []:
        if not isinstance(button, dict) or not isinstance(button.get("title"), str):
            continue
        if isinstance(button.get("url"), str):
            buttons.append({"title": button["title"], "url": button["url"]})
        elif isinstance(button.get("payload"), str):
            buttons.append({"title": button["title"], "payload": button["payload"]})
    return buttons


def choices_of(message: Mapping[str, Any]) -> list[dict[str, str]]:
    """The buttons that send a payload to the bot."""
    return [button for button in buttons_of(message) if "payload" in button]


def typed_choices(titles: Sequence[str], prefix: str) -> str:
    """Choices as commands to type (``prefix`` is e.g. the slash command or the hook's trigger word)."""
    # A backtick in a title would end the inline code.
    commands = [" ".join(filter(None, (prefix, title.replace("`", "'")))) for title in titles]
    lines = [f"- `{command}`" for command in commands]
    return "\n".join([CHOICES_INTRO, *lines])


@dataclass
class PlannedPost:
    """A post to create; its ``choices`` become buttons once the post exists (they are signed for its id)."""

    post: dict[str, Any]
    choices: list[dict[str, str]] = field(default_factory=list)


def thread_posts(
    messages: Sequence[Mapping[str, Any]], channel_id: str, root_id: str, typed_prefix: str | None
) -> list[PlannedPost]:
    """The posts that carry the bot's messages into a thread: one or more per message. With ``typed_prefix``
    None, a message's choices are buttons on its last post; otherwise they are listed as text to type."""
    planned: list[PlannedPost] = []
    for message in messages:
        choices = choices_of(message)
        text = message_text(message)
        if choices and typed_prefix is not None:
            typed = typed_choices([choice["title"] for choice in choices], typed_prefix)
            text = "\n\n".join(filter(None, (text, typed)))
            choices = []
        pieces = split_message(text) or ([""] if choices else [])
        planned.extend(
            PlannedPost({"channel_id": channel_id, "root_id": root_id, "message": piece}) for piece in pieces
        )
        if choices:
            planned[-1].choices = choices
    return planned


def button_props(
    choices: Sequence[Mapping[str, str]],
    callback_url: str,
    secret: bytes,
    post: Mapping[str, Any],
    user_id: str,
    expires: int,
) -> dict[str, Any]:
    """The props that put the choices as buttons on an existing post, each context signed for the post, its
    thread, the user who asked and an expiry."""
    actions = [
        {
            "id": f"choice{index}",  # Mattermost wants alphanumeric action ids
            "type": "button",
            "name": choice["title"],
            "integration": {
                "url": callback_url,
                "context": sign_context(
                    secret,
                    choice["payload"],
                    post["channel_id"],
                    post["root_id"],
                    user_id,
                    post["id"],
                    expires,
                ),
            },
        }
        for index, choice in enumerate(choices)
    ]
    return {"attachments": [{"actions": actions}]}


def slash_responses(messages: Sequence[Mapping[str, Any]], command: str) -> list[dict[str, str]]:
    """The bot's messages as ephemeral slash command responses, buttons listed as commands to type."""
    parts = [text for text in (message_text(message) for message in messages) if text]
    titles = [choice["title"] for message in messages for choice in choices_of(message)]
    if titles:
        parts.append(typed_choices(titles, command))
    pieces = split_message("\n\n".join(parts))[:RESPONSE_URL_USES]
    return [{"response_type": "ephemeral", "text": piece} for piece in pieces]


class MattermostOutput(OutputChannel):
    """Collects the bot's messages of one turn; they are posted once the turn is over."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    @classmethod
    def name(cls) -> str:
        return "mattermost"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.messages.append({"text": text})
