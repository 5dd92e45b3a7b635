"""Rules shared by every tax: the explanation trace, installments, due dates, 延滞金."""
