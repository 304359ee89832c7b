"""The file types ``--plot`` writes, known without importing matplotlib or the search."""

SUFFIXES = ("svg", "png", "pdf")
