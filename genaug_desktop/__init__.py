"""genaug-desktop: curate augmented and synthetic datasets of text and images."""

__version__ = "0.1.0"
