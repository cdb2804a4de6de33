"""Helpers that drive real outside programs for the tests (Ruby's Liquid + kramdown, Chromium, actionlint)."""
