"""The operator's command line, ``feedback``: the composition root of the platform."""
