"""keyless: checkov checks and cfn-lint rules that keep long-term AWS access keys out of infrastructure code."""

__version__ = "0.1.0"
