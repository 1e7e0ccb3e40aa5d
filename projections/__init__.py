"""Read models built from the Cases application's notification log."""
