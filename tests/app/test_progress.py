"""The live progress of a question: the engine's stages grouped under the words a person reads, with
the time each group has taken, fed with the events QuestionEngine.ask sends."""

from __future__ import annotations

from thelook_ecommerce_analysis.app.progress import (
    StageLog,
    finished_headline,
    format_duration,
    stage_label,
)

# What the engine tells for one question with two candidates, in its order.
ENGINE_EVENTS = [
    ("rewrite", None), ("rewrite", 900.0),
    ("embed", None), ("embed", 30.0), ("retrieve", None), ("retrieve", 20.0),
    ("llm", None), ("llm", 3100.0),
    ("values", None), ("values", 2.0), ("guard", None), ("guard", 3.0), ("validate", None),
    ("validate", 15.0), ("execute", None), ("execute", 40.0), ("fit", None), ("fit", 1.0),
    ("values", None), ("values", 2.0), ("guard", None), ("guard", 2.0), ("validate", None),
    ("validate", 12.0), ("fit", None), ("fit", 1.0),
    ("sentence", None), ("sentence", 1200.0),
]  # fmt: skip


def test_stages_are_grouped_under_their_labels_in_the_order_first_seen_with_their_times_added() -> None:
    log = StageLog(follow_up=True)
    for stage, ms in ENGINE_EVENTS:
        log.record(stage, ms)
    assert [(step.label, step.ms, step.running) for step in log.steps] == [
        ("Reading the follow-up", 900.0, 0),
        ("Finding tables", 50.0, 0),
        ("Writing SQL", 3100.0, 0),
        ("Checking", 38.0, 0),
        ("Running", 40.0, 0),
        ("Putting it in words", 1200.0, 0),
    ]
    assert log.markdown().split("  \n") == [
        ":material/check: Reading the follow-up (900 ms)",
        ":material/check: Finding tables (50 ms)",
        ":material/check: Writing SQL (3.1 s)",
        ":material/check: Checking (38 ms)",
        ":material/check: Running (40 ms)",
        ":material/check: Putting it in words (1.2 s)",
    ]


def test_the_stage_under_way_is_shown_running_and_named_in_the_headline() -> None:
    log = StageLog(follow_up=False)
    for stage, ms in ENGINE_EVENTS[:7]:
        log.record(stage, ms)
    assert log.headline() == "Writing SQL..."
    assert log.markdown().split("  \n")[-1] == ":material/progress_activity: Writing SQL..."
    log.record("llm", 2000.0)
    assert log.headline() == "Working on it..."


def test_a_question_that_is_no_follow_up_shows_no_rewrite_step() -> None:
    log = StageLog(follow_up=False)
    for stage, ms in ENGINE_EVENTS:
        log.record(stage, ms)
    assert "Reading the follow-up" not in [step.label for step in log.steps]


def test_a_retry_adds_to_its_label_and_runs_it_again() -> None:
    log = StageLog(follow_up=False)
    for stage, ms in [("llm", None), ("llm", 1000.0), ("guard", None), ("guard", 1.0), ("llm", None)]:
        log.record(stage, ms)
    assert log.headline() == "Writing SQL..."
    log.record("llm", 500.0)
    assert [(step.label, step.ms) for step in log.steps] == [("Writing SQL", 1500.0), ("Checking", 1.0)]


def test_labels_durations_and_headlines_read_as_words() -> None:
    assert stage_label("execute") == "Running"
    assert stage_label("rank_tables") == "Rank tables", "a stage the app does not know yet keeps its name"
    assert (format_duration(840), format_duration(3240)) == ("840 ms", "3.2 s")
    assert finished_headline(12_340, ok=True) == "Answered in 12.3 s"
    assert finished_headline(400, ok=False) == "No answer in 400 ms"
