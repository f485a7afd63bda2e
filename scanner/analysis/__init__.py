"""Making sense of the items: relevance → embeddings → stories → signals (cluster, track) → labels,
tags and scores. ``analyse.analyse`` runs the stages in that order; each is a module here."""
