"""The article's history, one replica module per page under ``docs/history/``."""
