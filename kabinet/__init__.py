"""Kabinet: the self-service portal and billing core of a telecom operator."""
