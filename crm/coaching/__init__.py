"""One firm, one policy (一企一策): coaching plans, measures, milestones, and the visits log."""
