"""`keyless audit`: audit reports over whole infrastructure repositories."""
