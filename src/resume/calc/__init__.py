"""Payment math for finance and lease quotes."""
