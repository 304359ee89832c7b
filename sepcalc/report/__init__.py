"""Renderers: analysis results to a terminal table, JSON, CSV and Markdown. No computation here."""
