"""Views of an analysed graph: the JSON/text report, comparisons and charts, diagrams. None of them
imports torch."""
