"""Mastery calculation methods (vectorised), output rounding and step-by-step explanations."""
