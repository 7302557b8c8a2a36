"""Re-deciding stored candidates (replay), human review, and the judge–reviewer agreement."""
