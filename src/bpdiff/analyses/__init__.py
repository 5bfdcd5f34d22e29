"""Analyses over a finished run: --expect, --gradcheck, --crosscheck, --hessian, symbolic derivatives, --problems and --quiz."""
