"""Reference pages of a topic and their Markdown formatting."""

from actions.content import Content, Page

# After an answer the links stay short; a user who asks for a link gets every page we have, up to 3.
LINKS_AFTER_ANSWER = 2
LINKS_ON_REQUEST = 3


def pages_for_topic(content: Content, topic: str, limit: int) -> list[Page]:
    """The first `limit` pages serving `topic`, in the order of pages.yml (most useful first)."""
    return [page for page in content.pages if topic in page.topics][:limit]


def markdown_link(title: str, url: str) -> str:
    return f"[{title}]({url})"


def format_links(pages: list[Page]) -> str:
    """One Markdown bullet per page: `- [Title](https://...)`."""
    return "\n".join(f"- {markdown_link(page.title, page.url)}" for page in pages)
