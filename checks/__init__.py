"""keyless checks for checkov: `checkov -d DIR --external-checks-dir checks --skip-download`."""
