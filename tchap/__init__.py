"""Bienvenue on Tchap (Matrix): the client process and its pure logic (README, section Tchap)."""
