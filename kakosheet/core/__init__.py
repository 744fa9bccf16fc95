"""The pure part: schema model, normalization, validation, rules. No I/O, no frameworks."""
