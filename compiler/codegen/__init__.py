"""Emit C: the model (model.c/model.h) from a Plan, and the project around it for a target."""
