"""Framework-free domain logic of the loan-risk pipeline.

The applicant record, cleaning and validation, pre-screen policy rules, model features and
reason codes live here and nowhere else. Nothing in this package imports streamparse, Flask,
kafka, happybase or a database driver: bolts, APIs, the producer and the loader call into it.
"""
