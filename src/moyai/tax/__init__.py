"""Taxes: one sub-package per tax (個人住民税, 固定資産税, 軽自動車税) and their shared rules."""
