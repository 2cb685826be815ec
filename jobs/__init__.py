"""Command-line jobs: load, generate, produce, train, reconcile, demo."""
