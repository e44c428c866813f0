"""The article's training topics, one module per page under ``docs/training/``."""
