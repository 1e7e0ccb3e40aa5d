"""A realistic demo district, reproducible with a seed (issue #6).

``organisation`` extends the demo district Tây Hồ with its other wards, offices, counters
and officers (through the organisation loader, idempotently); ``texts`` holds what citizens
write; ``plan`` draws submissions and the handlers' steps from ``random.Random(seed)``
(pure, no I/O); ``populate`` stores them through the intake handler and drives every step
through the real case desk on its simulated business date, so every figure comes from events.
"""
