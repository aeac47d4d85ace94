"""Campaign statistics: the recipient status counters, projected from the recipients stream."""
