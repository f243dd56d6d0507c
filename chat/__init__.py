"""The terminal chat behind `make chat` (`python -m chat`), on the terminal channel of a Rasa server."""
