"""Compiling a Spec into torch modules."""
