"""Custom actions of the Bienvenue assistant.

Each action module holds one thin rasa_sdk action; the logic lives in plain modules
(content, catalog, search, incubators, followups) that the unit tests call directly.
"""
