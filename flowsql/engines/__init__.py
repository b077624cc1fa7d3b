"""Engines run a rendered query: one folder each (athena, local); engines.base has what they share."""
