"""The "An toàn về an ninh, trật tự" standard: a school registers each year, assesses itself, and is evaluated."""
