"""Thin streamparse bolts of the loan-risk topology; the logic lives in the loanrisk package."""
