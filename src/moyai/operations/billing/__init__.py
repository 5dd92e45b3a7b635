"""割り勘 billing: shared running costs of a 協議会 allocated to its member municipalities."""
