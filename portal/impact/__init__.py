"""Impact (SPEC §2.11): impact points from the template's weights, and SROI by the standard
method from versioned valuation sets, each figure with its "why this number" trail."""
