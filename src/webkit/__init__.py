"""Flask glue shared by the project's web apps; the rules it applies live in the framework-free ``loanrisk``."""
