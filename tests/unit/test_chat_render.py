"""What the terminal chat shows of the bot's messages: links, buttons as numbered choices, the batch table."""

from chat import render
from chat.render import Choice, NoSuchChoice

FEEDBACK = {
    "text": (
        "Pour aller plus loin :\n- [Le guide](https://doc.incubateur.net/guide)\n"
        "Cette réponse vous a-t-elle été utile ?"
    ),
    "buttons": [
        {"title": "👍 Oui", "payload": "/feedback_positive"},
        {"title": "👎 Non", "payload": "/feedback_negative"},
    ],
}


def test_markdown_link_becomes_title_and_url() -> None:
    text = render.render_markdown("Lisez [le guide](https://doc.incubateur.net/guide).")
    assert text == "Lisez le guide\u00a0: https://doc.incubateur.net/guide."


def test_link_whose_title_is_its_url_is_shown_once() -> None:
    url = "https://beta.gouv.fr"
    assert render.render_markdown(f"[{url}]({url})") == url


def test_url_with_parentheses_stays_whole() -> None:
    text = render.render_markdown("[Page](https://fr.wikipedia.org/wiki/Startup_(entreprise))")
    assert text == "Page\u00a0: https://fr.wikipedia.org/wiki/Startup_(entreprise)"


def test_hyperlinks_use_osc_8() -> None:
    text = render.render_markdown("[le guide](https://doc.incubateur.net/guide)", hyperlinks=True)
    assert text == "\x1b]8;;https://doc.incubateur.net/guide\x1b\\le guide\x1b]8;;\x1b\\"


def test_no_markdown_markers_are_left() -> None:
    text = render.render_markdown("**Important** : voir <https://beta.gouv.fr>\n- un point")
    assert text == "Important : voir https://beta.gouv.fr\n• un point"


def test_buttons_become_numbered_choices_across_the_turn() -> None:
    menu = {"text": "Choisissez :", "buttons": [{"title": "A", "payload": "/a"}]}
    rendered = render.render_messages([menu, FEEDBACK])
    assert rendered.choices == (
        Choice(1, "A", "/a"),
        Choice(2, "👍 Oui", "/feedback_positive"),
        Choice(3, "👎 Non", "/feedback_negative"),
    )
    assert "    1. A" in rendered.lines
    assert "    3. 👎 Non" in rendered.lines
    assert "  • Le guide\u00a0: https://doc.incubateur.net/guide" in rendered.lines


def test_long_text_wraps_without_breaking_urls() -> None:
    url = "https://doc.incubateur.net/communaute/travailler-a-beta-gouv/jutilise-les-outils-de-la-communaute"
    rendered = render.render_messages([{"text": f"Voir [la page]({url}) " + "mot " * 40}], width=60)
    assert all(len(line) <= 60 or url in line for line in rendered.lines)
    assert any(line.strip() == url or line.endswith(url) for line in rendered.lines)


def test_a_listed_number_picks_its_choice() -> None:
    choices = render.render_messages([FEEDBACK]).choices
    assert render.read_choice("2", choices) == choices[1]
    assert render.read_choice(" 1. ", choices) == choices[0]


def test_anything_else_is_a_message() -> None:
    choices = render.render_messages([FEEDBACK]).choices
    assert render.read_choice("c'est quoi un intra ?", choices) is None
    assert render.read_choice("2 semaines de congés ?", choices) is None
    assert render.read_choice("1", ()) is None  # no menu shown: a number is a message like any other


def test_a_number_outside_the_menu_gets_a_hint() -> None:
    choices = render.render_messages([FEEDBACK]).choices
    picked = render.read_choice("3", choices)
    assert isinstance(picked, NoSuchChoice)
    assert picked.hint == (
        "Il n'y a pas de choix 3. (Tapez 1 ou 2 pour choisir, ou posez directement une autre question.)"
    )
    eight = [Choice(number, "sujet", "/x") for number in range(1, 9)]
    assert "un numéro de 1 à 8" in render.choices_hint(eight)


def test_plain_answer_for_the_table() -> None:
    answer = render.plain_answer([FEEDBACK])
    assert answer == (
        "Pour aller plus loin : • Le guide\u00a0: https://doc.incubateur.net/guide "
        "Cette réponse vous a-t-elle été utile ? [choix\u00a0: 👍 Oui · 👎 Non]"
    )


def test_hyperlinks_only_where_known_to_work() -> None:
    assert render.supports_hyperlinks({"TERM_PROGRAM": "iTerm.app"}, is_terminal=True)
    assert render.supports_hyperlinks({"VTE_VERSION": "7200"}, is_terminal=True)
    assert not render.supports_hyperlinks({"VTE_VERSION": "7200"}, is_terminal=False)
    assert not render.supports_hyperlinks({"VTE_VERSION": "7200", "TMUX": "/tmp/tmux-0/default"}, True)
    assert not render.supports_hyperlinks({"TERM": "xterm-256color"}, is_terminal=True)
    assert render.supports_hyperlinks({"BIENVENUE_CHAT_HYPERLINKS": "1"}, is_terminal=False)
    assert not render.supports_hyperlinks({"BIENVENUE_CHAT_HYPERLINKS": "0", "KITTY_WINDOW_ID": "1"}, True)


def test_table_cells_wrap_and_columns_align() -> None:
    table = render.format_table(("#", "Réponse"), [["1", "👍 Oui et un texte assez long"]], [2, 11])
    lines = table.splitlines()
    assert lines[3] == "| 1  | 👍 Oui et   |"  # the emoji takes two columns
    assert lines[4] == "|    | un texte    |"
    assert len({render.display_width(line) for line in lines}) == 1


def test_table_cells_cut_long_words_but_not_urls() -> None:
    assert render.wrap_cell("abcdefgh ij", 3) == ["abc", "def", "gh", "ij"]
    assert render.wrap_cell("voir https://beta.gouv.fr/approche ici", 10) == [
        "voir",
        "https://beta.gouv.fr/approche",
        "ici",
    ]


def test_confidence_in_french() -> None:
    assert render.format_confidence(0.934) == "0,93"
    assert render.format_confidence(None) == "—"
