"""Pages of a topic, in catalog order, as Markdown links."""

from actions.catalog import format_links, markdown_link, pages_for_topic
from actions.content import Content, Page


def test_pages_for_topic_keeps_the_catalog_order_and_the_limit(content: Content) -> None:
    every_page = [page for page in content.pages if "ask_startup_phases" in page.topics]
    assert len(every_page) > 3
    assert pages_for_topic(content, "ask_startup_phases", 2) == every_page[:2]
    assert pages_for_topic(content, "ask_startup_phases", 3) == every_page[:3]


def test_pages_for_an_unknown_topic_are_none(content: Content) -> None:
    assert pages_for_topic(content, "ask_meteo", 3) == []


def test_format_links_makes_one_markdown_bullet_per_page() -> None:
    pages = [
        Page("a", "Le manifeste", "https://beta.gouv.fr/manifeste", ("ask_values_manifesto",), "…", True),
        Page("b", "Les standards", "https://standards.beta.gouv.fr/", ("ask_documentation",), "…", True),
    ]
    assert format_links(pages) == (
        "- [Le manifeste](https://beta.gouv.fr/manifeste)\n- [Les standards](https://standards.beta.gouv.fr/)"
    )


def test_markdown_link() -> None:
    assert markdown_link("Nous rejoindre", "https://beta.gouv.fr/nous-rejoindre/") == (
        "[Nous rejoindre](https://beta.gouv.fr/nous-rejoindre/)"
    )
