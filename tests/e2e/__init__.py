"""Black-box end-to-end tests: the local stack started as the README says, spoken to over HTTP."""
