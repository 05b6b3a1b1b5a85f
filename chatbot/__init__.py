"""The shop customer-service desk."""

import shopcore  # noqa: F401  (sets the one-thread OpenMP default before torch loads)
