"""The shop customer-service desk."""

import shopcore  # noqa: F401  (sets the OpenMP defaults before torch loads)
