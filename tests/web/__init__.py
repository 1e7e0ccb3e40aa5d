"""Tests of the web front, with doubles of the view queries and the publisher."""
