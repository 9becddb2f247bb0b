"""The training monitor: panel, live plots, runs and evaluation views (Qt)."""
