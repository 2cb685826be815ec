"""Adapters: the one place that talks to Kafka, HBase, MySQL and Nimbus for the jobs, the APIs, the UI and monitoring.

The domain package ``loanrisk`` imports none of these libraries; the bolts open their own clients (a worker
process is its own world) and are not served from here.
"""
