"""contact-audit: mystery-shopper surveys of customer-service response times."""

__version__ = "0.1.0"
