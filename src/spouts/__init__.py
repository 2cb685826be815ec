"""Python spouts (the loan-risk topology reads Kafka with a JVM spout; the smoke topology uses a Python one)."""
