"""Rasa input channels adapted to Bienvenue (referenced by class path in credentials.yml)."""
