"""Questions a first-time user can click: each is answerable from the metrics tables and shows a
different kind of result (a trend, a ranking, a single number, a comparison by channel)."""

SAMPLE_QUESTIONS: tuple[str, ...] = (
    "What was the GMV in each month?",
    "Which 10 product categories had the highest GMV?",
    "How many orders were cancelled in total?",
    "What is the cart abandonment rate by traffic source?",
)
