"""resume: embeddable dealership widgets that keep every field and bring shoppers back."""

__version__ = "0.1.0"
